from odoo import api, fields, models


class PicoBomTransferWizard(models.TransientModel):
    """Confirmation before overwriting PICO's work instructions."""

    _name = "pico.bom.transfer.wizard"
    _description = "Send BoMs to PICO"

    bom_ids = fields.Many2many("mrp.bom", string="Bills of Materials", required=True)
    summary = fields.Text(compute="_compute_summary")

    @api.depends("bom_ids")
    def _compute_summary(self):
        for wizard in self:
            wizard.summary = "\n".join(
                self.env._(
                    "%(bom)s: product %(id)s, %(count)s processes",
                    bom=bom.display_name,
                    id=bom.pico_wi_product_id,
                    count=len(bom.operation_ids),
                )
                for bom in wizard.bom_ids
            )

    def action_confirm(self):
        self.ensure_one()
        self.bom_ids._pico_queue_transfer()
        return {"type": "ir.actions.act_window_close"}
