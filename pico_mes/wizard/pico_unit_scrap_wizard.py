from odoo import fields, models


class PicoUnitScrapWizard(models.TransientModel):
    _name = "pico.unit.scrap.wizard"
    _description = "Scrap a PICO unit"

    unit_id = fields.Many2one("pico.unit", required=True, readonly=True)
    unit_state = fields.Selection(related="unit_id.state")
    reason = fields.Char(required=True)
    replace = fields.Boolean(
        string="Order a replacement",
        default=True,
        help="Order one more unit of the same PICO order, so that the "
        "manufacturing order still delivers its quantity. Without it, the "
        "manufacturing order builds one unit less.",
    )

    def action_confirm(self):
        self.ensure_one()
        self.unit_id.action_pico_scrap(self.reason, self.replace)
        return {"type": "ir.actions.act_window_close"}
