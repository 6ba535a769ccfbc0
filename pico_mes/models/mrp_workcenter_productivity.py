from odoo import api, fields, models

from .. import compat


class MrpWorkcenterProductivity(models.Model):
    _inherit = "mrp.workcenter.productivity"

    pico_unit_id = fields.Many2one(
        "pico.unit", string="PICO Unit", index="btree_not_null", readonly=True
    )
    pico_process_id = fields.Many2one(
        "pico.operation", string="PICO Process", readonly=True
    )
    pico_serial = fields.Char(string="PICO Serial", readonly=True)
    pico_operator = fields.Char(string="PICO Operator", readonly=True)
    pico_station = fields.Char(string="PICO Station", readonly=True)
    pico_cycle_time = fields.Float(
        string="PICO Cycle Time (min)",
        readonly=True,
        help="PICO's cycle time; it is this log's duration.",
    )

    _pico_unit_process_uniq = compat.Constraint(
        "unique(pico_unit_id, pico_process_id)",
        "PICO's time of one process of one unit is logged once.",
    )

    @api.depends("date_end", "date_start", "pico_cycle_time")
    def _compute_duration(self):
        """PICO's cycle time is the duration (it may leave out pauses)."""
        pico = self.filtered("pico_cycle_time")
        for log in pico:
            log.duration = round(log.pico_cycle_time, 2)
        return super(MrpWorkcenterProductivity, self - pico)._compute_duration()
