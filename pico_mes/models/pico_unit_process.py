from odoo import fields, models

from .. import compat


class PicoUnitProcess(models.Model):
    """One process PICO completed on one unit: when, where, by whom, how long.

    Kept whether or not a work order takes the time, so that nothing PICO reports
    is lost when the routing is not mapped.
    """

    _name = "pico.unit.process"
    _description = "PICO Process Completion"
    _order = "completed_at desc, id desc"
    _check_company_auto = True

    unit_id = fields.Many2one(
        "pico.unit", required=True, readonly=True, index=True, ondelete="cascade"
    )
    production_id = fields.Many2one(
        related="unit_id.production_id", store=True, index=True, string="MO"
    )
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    process_id = fields.Many2one("pico.operation", readonly=True, index=True)
    process_pico_id = fields.Char(
        string="PICO Process ID", required=True, readonly=True
    )
    serial = fields.Char(readonly=True)
    station = fields.Char(readonly=True, index=True)
    operator = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", string="Operator User", readonly=True)
    workcenter_id = fields.Many2one("mrp.workcenter", readonly=True)
    productivity_id = fields.Many2one(
        "mrp.workcenter.productivity",
        string="Time Log",
        readonly=True,
        ondelete="set null",
    )
    workorder_id = fields.Many2one(
        related="productivity_id.workorder_id", store=True, string="Work Order"
    )
    started_at = fields.Datetime(readonly=True)
    completed_at = fields.Datetime(readonly=True)
    cycle_time = fields.Float(
        string="Cycle Time (min)", digits=(16, 2), readonly=True, aggregator="avg"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)

    _unit_process_uniq = compat.Constraint(
        "unique(unit_id, process_pico_id)", "PICO completes a process of a unit once."
    )
