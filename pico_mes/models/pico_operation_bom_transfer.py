from odoo import api, models


class PicoOperation(models.Model):
    _inherit = "pico.operation"

    @api.model
    def _pico_auto_map(self, company):
        """Also map what a BoM transfer created: the product and its processes."""
        result = super()._pico_auto_map(company)
        self.env["mrp.bom"]._pico_map_transferred(company)
        return result
