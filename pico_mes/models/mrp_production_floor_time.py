from odoo import api, fields, models


class MrpProduction(models.Model):
    """PICO process times per unit, and revision warnings."""

    _inherit = "mrp.production"

    pico_process_ids = fields.One2many(
        "pico.unit.process",
        "production_id",
        string="PICO Process Times",
        readonly=True,
    )
    pico_revision_warning = fields.Char(
        string="PICO Revision Warning",
        compute="_compute_pico_revision_warning",
    )

    @api.depends("bom_id.code", "pico_operation_id.external_revision")
    def _compute_pico_revision_warning(self):
        for production in self:
            production.pico_revision_warning = production._pico_revision_mismatch()

    def _pico_revision_mismatch(self):
        """A message when the BoM revision and PICO's revision differ, else False."""
        self.ensure_one()
        bom_revision = self.bom_id.code
        pico_revision = self.pico_operation_id.external_revision
        if not (bom_revision and pico_revision) or (
            bom_revision.strip().casefold() == pico_revision.strip().casefold()
        ):
            return False
        return self.env._(
            "BoM revision %(bom)s differs from revision %(pico)s of the PICO "
            "operation %(operation)s.",
            bom=bom_revision,
            pico=pico_revision,
            operation=self.pico_operation_id.display_name,
        )

    def action_confirm(self):
        result = super().action_confirm()
        for production in self.filtered("pico_operation_id"):
            warning = production._pico_revision_mismatch()
            if warning:
                production.message_post(body=warning)
        self.filtered("pico_operation_id").bom_id._pico_check_mapping()
        return result

    def _split_productions(
        self, amounts=False, cancel_remaining_qty=False, set_consumed_qty=False
    ):
        productions = super()._split_productions(
            amounts, cancel_remaining_qty, set_consumed_qty
        )
        self.env["pico.floor.time"]._follow_units(productions)
        return productions
