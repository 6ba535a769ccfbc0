from odoo import api, models

from ..services.payload import parse_events


class PicoInbox(models.AbstractModel):
    """A late completion of a scrapped unit is unmatched: the message says why."""

    _inherit = "pico.inbox"

    @api.model
    def _notify_unmatched(self, message):
        super()._notify_unmatched(message)
        if message.kind != "completion":
            return
        (event,) = parse_events(message._payload())
        unit = self.env["pico.mrp.adapter"]._unit_of(message.company_id, event)
        if unit and unit.state == "scrapped":
            message.error = self.env._(
                "Unit %(unit)s was scrapped in Odoo (%(reason)s): this completion "
                "changes no stock.",
                unit=unit.display_name,
                reason=unit.scrap_reason,
            )
