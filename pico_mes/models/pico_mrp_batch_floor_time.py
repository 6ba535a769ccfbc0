from odoo import api, models


class PicoMrpAdapter(models.AbstractModel):
    """A burst times its units as the one-by-one path does: the root process
    before the MO holding the unit is marked done, the serial after."""

    _inherit = "pico.mrp.adapter"

    @api.model
    def _before_unit_done(self, unit, event):
        result = super()._before_unit_done(unit, event)
        self.env["pico.floor.time"]._record_process(unit, event)
        return result

    @api.model
    def _after_unit_done(self, unit):
        result = super()._after_unit_done(unit)
        self.env["pico.floor.time"]._stamp_serial(unit)
        return result
