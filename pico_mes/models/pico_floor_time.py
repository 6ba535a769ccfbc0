from collections import defaultdict

from odoo import api, models
from odoo.tools import escape_psql

MAX_PROCESS_MINUTES = 24 * 60  # a process longer than a day is a clock error
CYCLE_SLACK_MINUTES = 1  # rounding between PICO's cycle time and its start and end


class PicoFloorTime(models.AbstractModel):
    """PICO's process times brought onto Odoo's work orders.

    A process completion becomes a ``pico.unit.process`` row and, where a BoM
    operation maps to the process, a time log on the work order of the MO that
    holds the unit. When a split moves units to a backorder, their logs follow.
    """

    _name = "pico.floor.time"
    _description = "PICO process times on work orders"

    @api.model
    def _record_process(self, unit, event):
        """Record one completion of ``event.operation_id`` on ``unit``; once."""
        Done = self.env["pico.unit.process"].sudo()
        if Done.search_count(
            [("unit_id", "=", unit.id), ("process_pico_id", "=", event.operation_id)],
            limit=1,
        ):
            return Done.browse()
        workorder = self._workorder_for(unit.production_id, event.operation_id)
        if event.operation_id == unit.operation_pico_id and not workorder:
            return Done.browse()  # the unit itself keeps its root times
        times, problem = self._times(event)
        if problem:
            unit._pico_note_time(problem)
            return Done.browse()
        company = unit.company_id
        values = {
            "process": self._process_of(workorder, company, event.operation_id),
            "workcenter": self.env["mrp.workcenter"]._pico_for_station(
                company, event.station
            )
            or workorder.workcenter_id,
            "user": self._user_for(company, event.operator),
            "serial": event.finished_serial or unit.produced_serial or unit.lot_id.name,
            "times": times,
        }
        log = self._create_time_log(unit, event, workorder, values)
        started, ended, minutes = values["times"]
        return Done.create(
            {
                "unit_id": unit.id,
                "product_id": unit.production_id.product_id.id,
                "process_id": values["process"].id,
                "process_pico_id": event.operation_id,
                "serial": values["serial"],
                "station": event.station,
                "operator": event.operator,
                "user_id": values["user"].id,
                "workcenter_id": values["workcenter"].id,
                "productivity_id": log.id,
                "started_at": started,
                "completed_at": ended,
                "cycle_time": minutes,
                "company_id": company.id,
            }
        )

    @api.model
    def _create_time_log(self, unit, event, workorder, values):
        """The work order's time log for this completion (none without one)."""
        Log = self.env["mrp.workcenter.productivity"].sudo()
        if not workorder:
            return Log
        started, ended, minutes = values["times"]
        log = Log.create(
            {
                "workorder_id": workorder.id,
                "workcenter_id": values["workcenter"].id,
                "company_id": workorder.company_id.id,
                "user_id": values["user"].id,
                "loss_id": self._productive_loss().id,
                "date_start": started,
                "date_end": ended,
                "description": self.env._(
                    "PICO: %(process)s, unit %(serial)s",
                    process=values["process"].name or event.operation_id,
                    serial=values["serial"] or unit.display_name,
                ),
                "pico_unit_id": unit.id,
                "pico_process_id": values["process"].id,
                "pico_serial": values["serial"],
                "pico_operator": event.operator,
                "pico_station": event.station,
                "pico_cycle_time": minutes,
            }
        )
        if workorder.state in ("pending", "waiting", "ready"):
            workorder.sudo().state = "progress"  # units are passing it
        return log

    @api.model
    def _process_of(self, workorder, company, pico_id):
        if workorder.operation_id.pico_process_id:
            return workorder.operation_id.pico_process_id
        return self.env["pico.operation"].search(
            [("pico_id", "=", pico_id), ("company_id", "=", company.id)], limit=1
        )

    @api.model
    def _times(self, event):
        """((start, end, minutes), None) from PICO's start, end and cycle time
        (else end minus start); (None, why) when they cannot be a time log."""
        ended, started = event.at, event.started_at
        name = event.operation_id
        if not started:
            return None, self.env._(
                "%(process)s, done %(end)s: PICO reported no start time; no time "
                "was logged.",
                process=name,
                end=ended,
            )
        span = (ended - started).total_seconds() / 60.0
        if span < 0:
            return None, self.env._(
                "%(process)s: PICO reported a start (%(start)s) after the end "
                "(%(end)s); no time was logged.",
                process=name,
                start=started,
                end=ended,
            )
        if event.cycle_time_ms is None:
            minutes = span
        else:
            minutes = event.cycle_time_ms / 60000.0
        if minutes > MAX_PROCESS_MINUTES:
            return None, self.env._(
                "%(process)s, done %(end)s: %(minutes)s min is beyond the bound of "
                "%(bound)s min for one process; no time was logged.",
                process=name,
                end=ended,
                minutes=round(minutes, 2),
                bound=MAX_PROCESS_MINUTES,
            )
        if minutes > span + CYCLE_SLACK_MINUTES:
            return None, self.env._(
                "%(process)s, done %(end)s: PICO's cycle time (%(minutes)s min) is "
                "longer than from its start to its end (%(span)s min); no time was "
                "logged.",
                process=name,
                end=ended,
                minutes=round(minutes, 2),
                span=round(span, 2),
            )
        times = started.replace(microsecond=0), ended.replace(microsecond=0), minutes
        return times, None

    @api.model
    def _workorder_for(self, production, process_pico_id):
        return production.workorder_ids.filtered(
            lambda w: (
                w.state != "cancel"
                and w.operation_id.pico_process_id.pico_id == process_pico_id
            )
        )[:1]

    @api.model
    def _user_for(self, company, operator):
        """The one internal user of ``company`` named exactly like PICO's operator
        (ignoring case and surrounding spaces); else none."""
        name = (operator or "").strip()
        if not name:
            return self.env["res.users"]
        users = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("name", "=ilike", escape_psql(name)),
                    ("share", "=", False),
                    ("company_ids", "in", company.id),
                ],
                limit=2,
            )
        )
        return users if len(users) == 1 else self.env["res.users"]

    @api.model
    def _productive_loss(self):
        return self.env["mrp.workcenter.productivity.loss"].search(
            [("loss_type", "=", "productive")], limit=1
        )

    @api.model
    def _stamp_serial(self, unit):
        """Processes logged before the unit had a serial get the built one."""
        serial = unit.produced_serial or unit.lot_id.name
        if not serial:
            return
        self.env["mrp.workcenter.productivity"].sudo().search(
            [("pico_unit_id", "=", unit.id), ("pico_serial", "=", False)]
        ).pico_serial = serial
        self.env["pico.unit.process"].sudo().search(
            [("unit_id", "=", unit.id), ("serial", "=", False)]
        ).serial = serial

    @api.model
    def _follow_units(self, productions):
        """Move time logs to the work orders of the MO now holding their unit."""
        units = productions._pico_units()
        if not units:
            return
        logs = (
            self.env["mrp.workcenter.productivity"]
            .sudo()
            .search([("pico_unit_id", "in", units.ids)])
        )
        moves = defaultdict(lambda: logs.browse())
        for log in logs:
            holder = log.pico_unit_id.production_id
            if log.workorder_id.production_id == holder:
                continue
            target = holder.workorder_ids.filtered(
                lambda w, op=log.workorder_id.operation_id: (
                    w.operation_id == op and w.state != "cancel"
                )
            )[:1]
            if target:
                moves[target] |= log
        for workorder, moved in moves.items():
            moved.workorder_id = workorder
