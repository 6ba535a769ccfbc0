from odoo import api, models


class PicoMrpAdapter(models.AbstractModel):
    """Completions also bring their process times onto work orders.

    A process (work in progress) completion is timed on the MO holding the unit;
    a root completion is timed before its unit is produced, so that the time sits
    on the MO that is marked done.
    """

    _inherit = "pico.mrp.adapter"

    @api.model
    def _apply_completion(self, company, event):
        outcome, unit = super()._apply_completion(company, event)
        if outcome == "done" and unit.operation_pico_id != event.operation_id:
            self.env["pico.floor.time"]._record_process(unit, event)
        return outcome, unit

    @api.model
    def _produce_unit(self, production, unit, event):
        floor_time = self.env["pico.floor.time"]
        floor_time._record_process(unit, event)
        result = super()._produce_unit(production, unit, event)
        floor_time._stamp_serial(unit)
        return result
