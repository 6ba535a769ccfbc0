from odoo import fields, models
from odoo.tools import SQL

MEASURED_DAYS = 30  # PICO's median is taken over the newest times of 30 days,
MEDIAN_TIMES = 200  # at most these many: the floor as it is now, at a bounded cost
TOLERANCE = 0.25  # an expected time further than this from the median is flagged
MIN_TIMES = 5  # fewer PICO times than this flag nothing


class PicoOperationTime(models.Model):
    """PICO's median time of a BoM operation against the time Odoo expects.

    One row per BoM operation mapped to a PICO process, and company, with PICO
    times: the median of its newest ``MEDIAN_TIMES`` times of the last
    ``MEASURED_DAYS`` days (the process completions on the operation's work
    orders). Odoo's expected time is the operation's duration per unit: the
    fixed one, or, computed on tracked time, the mean of the last work orders
    as Odoo computes it (one unit per cycle, as PICO builds).
    """

    _name = "pico.operation.time"
    _description = "PICO Time against Expected Time"
    _auto = False
    _order = "variance_abs desc, id"
    _rec_name = "operation_id"

    operation_id = fields.Many2one(
        "mrp.routing.workcenter", string="BoM Operation", readonly=True
    )
    bom_id = fields.Many2one("mrp.bom", string="Bill of Materials", readonly=True)
    product_tmpl_id = fields.Many2one(
        "product.template", string="Product", readonly=True
    )
    workcenter_id = fields.Many2one("mrp.workcenter", readonly=True)
    process_id = fields.Many2one("pico.operation", string="PICO Process", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    time_mode = fields.Selection(
        [("manual", "Fixed"), ("auto", "Computed on tracked time")],
        string="Duration Computation",
        readonly=True,
    )
    time_count = fields.Integer(string="PICO Times", readonly=True)
    median_time = fields.Float(
        string="PICO Median (min)", digits=(16, 2), readonly=True, aggregator="avg"
    )
    expected_time = fields.Float(
        string="Expected (min)", digits=(16, 2), readonly=True, aggregator="avg"
    )
    variance = fields.Float(
        string="Variance (%)",
        digits=(16, 1),
        readonly=True,
        aggregator="avg",
        help="How much longer (or, negative, shorter) PICO's median is than the "
        "expected time.",
    )
    variance_abs = fields.Float(readonly=True, aggregator="max")
    flagged = fields.Boolean(
        string="Far from PICO's Times",
        readonly=True,
        help="A fixed expected time further than the tolerance from PICO's "
        "median, over enough PICO times.",
    )

    _depends = {
        "pico.unit.process": [
            "bom_operation_id",
            "company_id",
            "completed_at",
            "cycle_time",
        ],
        "mrp.routing.workcenter": [
            "active",
            "bom_id",
            "pico_process_id",
            "time_cycle_manual",
            "time_mode",
            "time_mode_batch",
            "workcenter_id",
        ],
        "mrp.bom": ["company_id", "product_tmpl_id"],
        "mrp.workorder": [
            "date_finished",
            "duration",
            "operation_id",
            "qty_produced",
            "state",
        ],
    }

    @property
    def _table_query(self):
        """A row per mapped BoM operation and company with PICO times: their
        median and count over the newest MEDIAN_TIMES (an index range per
        row, whatever the history), and Odoo's expected time."""
        return SQL(
            """
            WITH mapped AS (
                SELECT op.id AS operation_id, op.bom_id, bom.product_tmpl_id,
                       op.workcenter_id, op.pico_process_id AS process_id,
                       op.time_mode, op.time_mode_batch, op.time_cycle_manual,
                       company.id AS company_id
                  FROM mrp_routing_workcenter op
                  JOIN mrp_bom bom ON bom.id = op.bom_id
                  JOIN res_company company
                    ON bom.company_id IS NULL OR bom.company_id = company.id
                 WHERE op.pico_process_id IS NOT NULL AND op.active
            ), measured AS (
                SELECT m.*, times.id, times.time_count, times.median_time
                  FROM mapped m
            CROSS JOIN LATERAL (
                    SELECT MIN(newest.id) AS id,
                           COUNT(*) AS time_count,
                           percentile_cont(0.5) WITHIN GROUP (
                               ORDER BY newest.cycle_time
                           ) AS median_time
                      FROM (SELECT p.id, p.cycle_time::double precision AS cycle_time
                              FROM pico_unit_process p
                             WHERE p.bom_operation_id = m.operation_id
                               AND p.company_id = m.company_id
                               AND p.cycle_time IS NOT NULL
                               AND p.completed_at >= (NOW() AT TIME ZONE 'UTC')
                                   - INTERVAL '1 day' * %(days)s
                          ORDER BY p.completed_at DESC, p.id DESC
                             LIMIT %(times)s) newest
                   ) times
                 WHERE times.time_count > 0
            ), timed AS (
                SELECT m.id, m.operation_id, m.bom_id, m.product_tmpl_id,
                       m.workcenter_id, m.process_id, m.company_id, m.time_mode,
                       m.time_count, m.median_time,
                       CASE WHEN m.time_mode = 'auto' AND tracked.cycles > 0
                            THEN tracked.duration / tracked.cycles
                            ELSE m.time_cycle_manual
                       END AS expected_time
                  FROM measured m
             LEFT JOIN LATERAL (
                    SELECT SUM(last.duration) AS duration,
                           SUM(CEIL(last.qty_produced)) AS cycles
                      FROM (SELECT wo.duration, wo.qty_produced
                              FROM mrp_workorder wo
                             WHERE wo.operation_id = m.operation_id
                               AND wo.state = 'done'
                               AND wo.qty_produced > 0
                          ORDER BY wo.date_finished DESC, wo.id DESC
                             LIMIT m.time_mode_batch) last
                   ) tracked ON m.time_mode = 'auto'
            )
            SELECT t.*,
                   100.0 * (t.median_time - t.expected_time)
                       / NULLIF(t.expected_time, 0) AS variance,
                   ABS(t.median_time - t.expected_time)
                       / NULLIF(t.expected_time, 0) AS variance_abs,
                   t.time_mode = 'manual' AND t.time_count >= %(min_times)s
                       AND (t.expected_time <= 0
                            OR ABS(t.median_time - t.expected_time)
                               > %(tolerance)s * t.expected_time) AS flagged
              FROM timed t
            """,
            days=MEASURED_DAYS,
            times=MEDIAN_TIMES,
            min_times=MIN_TIMES,
            tolerance=TOLERANCE,
        )

    def action_view_pico_times(self):
        """The process completions behind this row's median."""
        self.ensure_one()
        return self.operation_id._pico_times_action(self.company_id)
