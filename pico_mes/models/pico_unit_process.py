from odoo import fields, models
from odoo.tools import SQL

from .. import compat

MEDIAN = "median"


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
    bom_operation_id = fields.Many2one(
        related="workorder_id.operation_id",
        store=True,
        index=True,
        string="BoM Operation",
    )
    started_at = fields.Datetime(readonly=True)
    completed_at = fields.Datetime(readonly=True)
    cycle_time = fields.Float(
        string="Cycle Time (min)",
        digits=(16, 2),
        readonly=True,
        aggregator=MEDIAN,
        help="PICO's cycle time; grouped, the median of the group's times.",
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)

    _unit_process_uniq = compat.Constraint(
        "unique(unit_id, process_pico_id)", "PICO completes a process of a unit once."
    )

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS pico_unit_process_operation_newest_idx"
            " ON pico_unit_process (bom_operation_id, company_id, completed_at, id)"
            " INCLUDE (cycle_time) WHERE bom_operation_id IS NOT NULL"
        )

    def _read_group_select(self, aggregate_spec, query):
        """``field:median``: the median of the group's values (an ordered-set
        aggregate PostgreSQL has, and Odoo's aggregates do not)."""
        fname, _sep, function = aggregate_spec.partition(":")
        if function != MEDIAN:
            return super()._read_group_select(aggregate_spec, query)
        if self._fields.get(fname) is None or self._fields[fname].type not in (
            "float",
            "integer",
        ):
            raise ValueError(f"Invalid aggregate {aggregate_spec!r} on {self._name}")
        expression = self._field_to_sql(self._table, fname, query)
        return SQL(
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY %s::double precision)",
            expression,
        )
