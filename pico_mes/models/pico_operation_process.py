from odoo import api, fields, models


class PicoOperation(models.Model):
    """Processes under a PICO operation, and BoM operations mapped to them."""

    _inherit = "pico.operation"

    process_link_ids = fields.One2many(
        "pico.process", "parent_id", string="Processes", readonly=True
    )

    @api.model
    def _pico_sync_company(self, company, full=False):
        # BoM operations are mapped once the links are known, not before.
        result = super(
            PicoOperation, self.with_context(pico_links_pending=True)
        )._pico_sync_company(company, full=full)
        self.env["pico.process"]._pico_sync_company(company)
        self.env["mrp.routing.workcenter"]._pico_auto_map_processes(company)
        return result

    @api.model
    def _pico_auto_map(self, company):
        result = super()._pico_auto_map(company)
        if not self.env.context.get("pico_links_pending"):
            self.env["mrp.routing.workcenter"]._pico_auto_map_processes(company)
        self.env["mrp.bom"]._pico_check_company_mappings(company)
        return result
