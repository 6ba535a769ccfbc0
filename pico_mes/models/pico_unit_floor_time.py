from odoo import api, fields, models


class PicoUnit(models.Model):
    """A unit's process times, and where to see it in PICO."""

    _inherit = "pico.unit"

    process_ids = fields.One2many(
        "pico.unit.process", "unit_id", string="Processes", readonly=True
    )
    pico_url = fields.Char(string="Open in PICO", compute="_compute_pico_url")

    @api.depends("external_order_id", "order_index", "company_id.pico_unit_link")
    def _compute_pico_url(self):
        for unit in self:
            unit.pico_url = unit.company_id._pico_unit_url(
                unit.external_order_id, unit.order_index
            )
