from odoo import api, fields, models

from .. import compat
from ..access import check_engine_fields

ENGINE_FIELDS = frozenset({"pico_placeholder"})


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
    pico_placeholder = fields.Boolean(
        string="Expected Duration Stand-in",
        readonly=True,
        help="Odoo logged the expected duration when it closed the order before "
        "PICO's time came; PICO's time replaces it.",
    )

    _pico_unit_process_uniq = compat.Constraint(
        "unique(pico_unit_id, pico_process_id)",
        "PICO's time of one process of one unit is logged once.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        """Odoo logs the expected duration of a work order without time when it
        closes the order; for an order PICO produced (``pico_keep_unit_ids``),
        that log stands in for PICO's time until it comes, then leaves: tracked
        time (``time_mode = 'auto'``) takes PICO's times only."""
        for vals in vals_list:
            check_engine_fields(self, ENGINE_FIELDS, vals)
        if self.env.context.get("pico_keep_unit_ids") is not None:
            vals_list = [
                vals if vals.get("pico_unit_id") else dict(vals, pico_placeholder=True)
                for vals in vals_list
            ]
        logs = super().create(vals_list)
        late = logs.filtered(
            lambda log: log.pico_unit_id and log.workorder_id.state == "done"
        )
        if late:
            self.sudo().search(
                [
                    ("workorder_id", "in", late.workorder_id.ids),
                    ("pico_placeholder", "=", True),
                ]
            ).unlink()
        return logs

    def write(self, vals):
        check_engine_fields(self, ENGINE_FIELDS, vals)
        return super().write(vals)

    @api.depends("date_end", "date_start", "pico_cycle_time")
    def _compute_duration(self):
        """PICO's cycle time is the duration (it may leave out pauses)."""
        pico = self.filtered("pico_cycle_time")
        for log in pico:
            log.duration = round(log.pico_cycle_time, 2)
        return super(MrpWorkcenterProductivity, self - pico)._compute_duration()
