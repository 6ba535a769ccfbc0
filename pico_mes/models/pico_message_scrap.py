from odoo import models


class PicoMessage(models.Model):
    _inherit = "pico.message"

    def _processed(self, state, unit=None):
        """A completion of a scrapped unit is unmatched: say why on the message."""
        result = super()._processed(state, unit)
        if state == "unmatched" and unit and unit.state == "scrapped":
            self.error = self.env._(
                "Unit %(unit)s was scrapped in Odoo (%(reason)s): this completion "
                "changes no stock.",
                unit=unit.display_name,
                reason=unit.scrap_reason,
            )
        return result
