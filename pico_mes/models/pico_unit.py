from odoo import api, fields, models

from ..exceptions import PicoStateError

OPEN_STATES = ("queued", "sent", "in_progress", "failed")
UNSTARTED_STATES = ("queued", "sent", "failed")
WIP_LOG_LINES = 200  # the newest child-operation completions kept as text


class PicoUnit(models.Model):
    """One unit ordered from PICO: an operation order of quantity one.

    Keyed like PICO keys it, ``(externalOrderId, operationId, orderIndex)``. The MO
    holding the unit changes when Odoo splits or backorders; the key never does.
    """

    _name = "pico.unit"
    _description = "PICO Ordered Unit"
    _order = "external_order_id, order_index"
    _rec_name = "external_order_id"
    _check_company_auto = True

    external_order_id = fields.Char(
        string="PICO Order Reference", required=True, readonly=True
    )
    operation_id = fields.Many2one(
        "pico.operation",
        required=True,
        readonly=True,
        ondelete="restrict",
        check_company=True,
    )
    operation_pico_id = fields.Char(
        string="PICO Operation ID", required=True, readonly=True
    )
    order_index = fields.Integer(required=True, readonly=True)
    production_id = fields.Many2one(
        "mrp.production",
        string="Manufacturing Order",
        index=True,
        readonly=True,
        check_company=True,
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
            ("failed", "Failed"),
        ],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    lot_id = fields.Many2one(
        "stock.lot", string="Lot/Serial", readonly=True, check_company=True
    )
    produced_serial = fields.Char(readonly=True)
    consumed_serials = fields.Char(readonly=True)
    started_at = fields.Datetime(readonly=True)
    completed_at = fields.Datetime(readonly=True)
    cycle_time = fields.Float(string="Cycle Time (min)", digits=(16, 2), readonly=True)
    station = fields.Char(readonly=True)
    operator = fields.Char(readonly=True)
    wip_log = fields.Text(
        string="Work in Progress", readonly=True, help="PICO's child completions."
    )

    _sql_constraints = [
        (
            "pico_key_uniq",
            "unique(company_id, external_order_id, operation_pico_id, order_index)",
            "PICO orders each unit once per company.",
        )
    ]

    def init(self):
        self.env.cr.execute(
            "CREATE INDEX IF NOT EXISTS pico_unit_order_index_idx"
            " ON pico_unit (external_order_id, order_index)"
        )

    @api.depends("external_order_id", "order_index")
    def _compute_display_name(self):
        for unit in self:
            unit.display_name = f"{unit.external_order_id} #{unit.order_index}"

    # ---------------------------------------------------------- transitions

    def _transition(self, state, allowed, name):
        """Move to ``state`` from one of ``allowed``; anything else is a bug."""
        wrong = self.filtered(lambda u: u.state not in allowed)
        if wrong:
            raise PicoStateError(
                f"pico.unit {wrong.ids}: cannot {name} from state "
                f"{sorted(set(wrong.mapped('state')))}"
            )
        if self:
            self.write({"state": state})
        return self

    def _set_sent(self):
        """PICO accepted the save."""
        return self._transition("sent", ("queued",), "set sent")

    def _set_failed(self):
        """PICO refused the save for good."""
        return self._transition("failed", ("queued",), "set failed")

    def _set_queued(self):
        """A manager retries a refused save."""
        return self._transition("queued", ("failed",), "queue again")

    def _set_cancelled(self):
        """Only units PICO has not started can be cancelled."""
        return self._transition("cancelled", UNSTARTED_STATES, "cancel")

    def _set_in_progress(self):
        return self._transition("in_progress", ("queued", "sent"), "start")

    def _save_input(self):
        """This unit as PICO's ``OperationOrderSaveInput``."""
        self.ensure_one()
        return {
            "externalOrderId": self.external_order_id,
            "operationId": self.operation_pico_id,
            "orderIndex": self.order_index,
        }

    def _cancel_input(self):
        self.ensure_one()
        return dict(self._save_input(), cancelAll=False)

    @api.model
    def _find_by_key(
        self, external_order_id, operation_pico_id, order_index, company=None
    ):
        domain = [
            ("external_order_id", "=", external_order_id),
            ("operation_pico_id", "=", operation_pico_id),
            ("order_index", "=", order_index),
        ]
        if company is not None:
            domain.append(("company_id", "=", company.id))
        return self.search(domain, limit=1)

    def _record_execution(self, event, lot):
        """The unit is built: store PICO's execution data (times, station, operator)."""
        self._transition("done", OPEN_STATES, "complete")
        self.write(
            {
                "lot_id": lot.id,
                "started_at": event.started_at,
                "completed_at": event.at,
                "cycle_time": (event.cycle_time_ms or 0) / 60000.0,
                "station": event.station,
                "operator": event.operator,
                "produced_serial": event.finished_serial,
                "consumed_serials": ", ".join(
                    f"{c.part_number or c.attribute_id}: {c.serial}"
                    for c in event.consumed_serials
                )
                or False,
            }
        )

    def _record_wip(self, event):
        """A child operation finished: log it, no stock effect."""
        line = self.env._(
            "%(at)s %(operation)s done at %(station)s by %(operator)s",
            at=fields.Datetime.to_string(event.at),
            operation=event.operation_id,
            station=event.station or "-",
            operator=event.operator or "-",
        )
        lines = [*(self.wip_log or "").splitlines(), line]
        self.wip_log = "\n".join(lines[-WIP_LOG_LINES:])  # PICO decides how many come
        self.filtered(lambda u: u.state in ("queued", "sent"))._set_in_progress()
