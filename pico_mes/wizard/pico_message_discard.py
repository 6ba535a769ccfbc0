from odoo import fields, models


class PicoMessageDiscard(models.TransientModel):
    """Asks a PICO Manager why failed messages are given up."""

    _name = "pico.message.discard"
    _description = "Discard PICO Messages"

    reason = fields.Text(required=True)

    def action_discard(self):
        self.ensure_one()
        messages = self.env["pico.message"].browse(
            self.env.context.get("active_ids", [])
        )
        messages.action_discard(reason=self.reason)
        return {"type": "ir.actions.act_window_close"}
