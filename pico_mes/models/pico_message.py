import json
import logging
import random
import threading
import time
import traceback
from datetime import timedelta
from itertools import groupby

from psycopg2 import OperationalError, errorcodes

from odoo import api, fields, models

from ..services import documents
from ..services.client import PicoError
from ..services.payload import PayloadError, parse_events
from .pico_unit import OPEN_STATES

_logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
BACKOFF_SECONDS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
ALIASES_PER_REQUEST = 50
CLAIM_LIMIT = 200
RUN_BUDGET_SECONDS = 60
DISPATCH_CRON = "pico_mes.ir_cron_pico_dispatch"
PROCESS_CRON = "pico_mes.ir_cron_pico_process"
RECONCILE_CHUNK = 100
INLINE_TRIES = 3
CONFLICT_CODES = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
}


class PicoProcessingError(Exception):
    """A message cannot be applied as it is: a person must look at it."""


class PicoMessage(models.Model):
    """The durable log of every exchange with PICO, and the outbox and inbox.

    An outbound row is written in the same transaction as the business change and
    delivered by the dispatcher cron; an inbound row is committed before it is
    processed. Either is retried until done, or failed for a person to retry.
    """

    _name = "pico.message"
    _description = "PICO Message"
    _order = "id desc"

    direction = fields.Selection(
        [("out", "To PICO"), ("in", "From PICO")], required=True, readonly=True
    )
    kind = fields.Selection(
        [
            ("order_save", "Order units"),
            ("order_cancel", "Cancel units"),
            ("webhook_subscribe", "Register webhook"),
            ("completion", "Unit completed"),
            ("operation", "Operation changed"),
        ],
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("unmatched", "Unmatched"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True
    )
    production_id = fields.Many2one(
        "mrp.production", string="Manufacturing Order", readonly=True, index=True
    )
    unit_ids = fields.Many2many("pico.unit", string="Units", readonly=True)
    order_ref = fields.Char(string="PICO Order Reference", readonly=True, index=True)
    dedup_key = fields.Char(readonly=True, copy=False)
    payload = fields.Text(readonly=True)
    answer = fields.Text(string="PICO's Answer", readonly=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(
        default=fields.Datetime.now, readonly=True, index=True
    )
    done_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        (
            "dedup_key_uniq",
            "unique(company_id, dedup_key)",
            "PICO delivered this event already.",
        )
    ]

    @api.depends("kind", "order_ref", "unit_ids")
    def _compute_display_name(self):
        labels = dict(self._fields["kind"].selection)
        for message in self:
            parts = [labels.get(message.kind, message.kind), message.order_ref]
            message.display_name = " ".join(filter(None, parts))

    # ------------------------------------------------------------- queueing

    @api.model
    def _queue(self, vals_list):
        """Create outbound rows; the dispatcher is woken when they are committed."""
        messages = self.create(
            [dict(vals, direction="out", state="pending") for vals in vals_list]
        )
        if messages:
            self._wake_dispatcher_at_commit()
        return messages

    @api.model
    def _wake_dispatcher_at_commit(self):
        """One cron trigger per transaction, however many orders it confirms."""
        precommit = self.env.cr.precommit
        if not precommit.data.get("pico_mes.wake_dispatcher"):
            precommit.data["pico_mes.wake_dispatcher"] = True
            precommit.add(self.env.ref(DISPATCH_CRON).sudo()._trigger)

    @api.model
    def _dump(self, payload):
        return json.dumps(payload, sort_keys=True)

    def _payload(self):
        return json.loads(self.payload or "{}")

    # ----------------------------------------------------------- dispatcher

    @api.model
    def _cron_dispatch(self):
        """Deliver due outbound messages, batched; never raises for PICO's sake."""
        self._run_within_budget(
            self._claim_due_outbound, self._deliver_by_company, DISPATCH_CRON
        )

    @api.model
    def _run_within_budget(self, claim, handle, cron_xmlid):
        """Claim and handle batches until none is left; past the time budget, wake
        the cron again to go on, so that one run never holds a worker for long."""
        deadline = time.monotonic() + RUN_BUDGET_SECONDS
        while time.monotonic() < deadline:
            messages = claim()
            if not messages:
                return
            handle(messages)
            self._commit_progress()
        self.env.ref(cron_xmlid).sudo()._trigger()

    @api.model
    def _deliver_by_company(self, messages):
        for company, company_messages in groupby(messages, key=lambda m: m.company_id):
            self._deliver(company, self.browse([m.id for m in company_messages]))

    @api.model
    def _claim_due_outbound(self):
        """Lock due messages whose earlier siblings (same order) are not held back.

        An order's messages go out in creation order: a later cancel never
        overtakes a save still waiting for its retry.
        """
        self.flush_model()
        self.env.cr.execute(
            """SELECT m.id FROM pico_message m
                WHERE m.direction = 'out' AND m.state = 'pending'
                  AND m.next_attempt_at <= %(now)s
                  AND NOT EXISTS (
                      SELECT 1 FROM pico_message p
                       WHERE p.order_ref = m.order_ref AND p.direction = 'out'
                         AND p.id < m.id
                         AND (p.state = 'failed' OR (p.state = 'pending'
                              AND p.next_attempt_at > %(now)s)))
                ORDER BY m.company_id, m.id
                LIMIT %(limit)s
                FOR UPDATE OF m SKIP LOCKED""",
            {"now": fields.Datetime.now(), "limit": CLAIM_LIMIT},
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _deliver(self, company, messages):
        """Send saves before cancels (a cancel only targets keys already saved)."""
        try:
            client = company._pico_client()
        except PicoError as exc:  # not configured: wait for an administrator
            messages._delivery_failed(exc, retryable=True)
            return
        try:
            for kind, batch_kind in (
                ("order_save", "save"),
                ("order_cancel", "cancel"),
            ):
                for chunk in self._chunks(
                    messages.filtered(lambda m, k=kind: m.kind == k)
                ):
                    chunk._send_batch(client, batch_kind)
            # issue 13: BoM transfer calls, see pico_message_enhanced.py
            transfers = messages.filtered(lambda m: m.kind == "bom_transfer")
            transfers._pico_send_bom_transfer(client)
        finally:
            client.close()

    @api.model
    def _chunks(self, messages):
        """Pack messages: HTTP request carries ~ALIASES_PER_REQUEST units."""
        chunk, size = self.browse(), 0
        for message in messages:
            chunk |= message
            size += len(message._payload().get("inputs", []))
            if size >= ALIASES_PER_REQUEST:
                yield chunk
                chunk, size = self.browse(), 0
        if chunk:
            yield chunk

    def _send_batch(self, client, batch_kind):
        inputs = [(m, value) for m in self for value in m._payload().get("inputs", [])]
        document = documents.batched_mutation(batch_kind, len(inputs))
        variables = documents.batched_variables([value for _m, value in inputs])
        try:
            data, errors = client.execute_partial(document, variables)
        except PicoError as exc:
            self._delivery_failed(exc, exc.retryable)
            return
        failed_aliases = {
            str(e["path"][0]): e.get("message", "") for e in errors if e.get("path")
        }
        if errors and not failed_aliases:
            message = "; ".join(str(e.get("message", e)) for e in errors[:5])
            self._delivery_failed(
                self.env._("PICO rejected the request: %s", message), False
            )
            return
        position, delivered, answers = 0, self.browse(), {}
        for message in self:
            count = len(message._payload().get("inputs", []))
            aliases = [documents.alias(i) for i in range(position, position + count)]
            position += count
            problems = [failed_aliases[a] for a in aliases if a in failed_aliases]
            if problems:
                message._delivery_failed(
                    self.env._("PICO rejected: %s", "; ".join(problems)), False
                )
            else:
                delivered |= message
                answers[message.id] = {a: (data or {}).get(a) for a in aliases}
        delivered._delivered(answers)

    def _delivered(self, answers):
        """Record PICO's answer ({message id: answer}); saved units are now sent."""
        now = fields.Datetime.now()
        for message in self:
            message.write(
                {
                    "state": "done",
                    "answer": json.dumps(answers[message.id], indent=1, sort_keys=True),
                    "error": False,
                    "attempts": message.attempts + 1,
                    "done_at": now,
                }
            )
        saves = self.filtered(lambda m: m.kind == "order_save")
        saves.unit_ids.filtered(lambda u: u.state == "queued").state = "sent"

    def _delivery_failed(self, error, retryable):
        """Back off while it may pass; past MAX_ATTEMPTS, or if permanent, fail."""
        now = fields.Datetime.now()
        retry = self.filtered(lambda m: retryable and m.attempts + 1 < MAX_ATTEMPTS)
        for message in retry:
            delay = BACKOFF_SECONDS[min(message.attempts, len(BACKOFF_SECONDS) - 1)]
            message.write(
                {
                    "attempts": message.attempts + 1,
                    "error": str(error),
                    "next_attempt_at": now + timedelta(seconds=delay),
                }
            )
        if retry:
            first = min(retry.mapped("next_attempt_at"))
            self.env.ref(DISPATCH_CRON).sudo()._trigger(at=first)
        for message in self - retry:
            message.attempts += 1
            message._fail(str(error))

    def _fail(self, error):
        """Permanent failure: the message, its units and its MO show it, with a task."""
        self.write({"state": "failed", "error": error})
        if self.direction == "out":
            self.unit_ids.filtered(lambda u: u.state == "queued").state = "failed"
        if self.production_id:
            self.production_id._pico_flag_error(error)

    # --------------------------------------------------------------- inbox

    @api.model
    def _receive(self, company, events):
        """Persist events, deduplicated by their key, in one INSERT.

        Returns (new messages, number of duplicates). The UNIQUE key makes a
        concurrent delivery of the same event a duplicate too.
        """
        now = fields.Datetime.now()
        rows = [
            (
                company.id,
                e.kind,
                e.key,
                getattr(e, "external_order_id", None),
                json.dumps(e.raw, sort_keys=True),
                now,
                self.env.uid,
            )
            for e in events
        ]
        self.flush_model()
        values_sql = ", ".join(
            ["(%s, 'in', %s, %s, %s, %s, 'pending', 0, %s, %s, %s, %s, %s)"] * len(rows)
        )
        self.env.cr.execute(
            f"""INSERT INTO pico_message
                   (company_id, direction, kind, dedup_key, order_ref, payload, state,
                    attempts, next_attempt_at, create_date, write_date, create_uid,
                    write_uid)
                VALUES {values_sql}
                ON CONFLICT (company_id, dedup_key) DO NOTHING
                RETURNING id""",  # noqa: S608 -- placeholders only
            [
                v
                for row in rows
                for v in (*row[:5], row[5], row[5], row[5], row[6], row[6])
            ],
        )
        new_ids = [row[0] for row in self.env.cr.fetchall()]
        return self.browse(new_ids), len(rows) - len(new_ids)

    @api.model
    def _cron_process_inbound(self):
        self._run_within_budget(
            self._claim_pending_inbound,
            lambda messages: messages._process(),
            PROCESS_CRON,
        )

    @api.model
    def _claim_pending_inbound(self, ids=None):
        """Lock pending inbound messages (those given, else the oldest)."""
        self.flush_model()
        self.env.cr.execute(
            """SELECT id FROM pico_message
                WHERE direction = 'in' AND state = 'pending'
                  AND (%(all)s OR id = ANY(%(ids)s))
                ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            {"all": ids is None, "ids": ids or [], "limit": CLAIM_LIMIT},
        )
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    def _process(self):
        """Apply each message in its own transaction (a savepoint inside tests).

        A write conflict with a concurrent completion of the same MO is retried in
        a fresh transaction, then left pending for the cron: never failed.
        """
        testing = _testing()
        for message_id in self.ids:
            for attempt in range(INLINE_TRIES):
                message = self._claim_pending_inbound([message_id])
                if not message or message._apply_or_fail() or testing:
                    break
                self.env.cr.rollback()
                self.env.invalidate_all()
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
            else:
                self.env.ref(PROCESS_CRON).sudo()._trigger()
            self._commit_progress()

    def _apply_or_fail(self):
        """Apply; return False on a transient write conflict, True otherwise."""
        if not self._lock_order():
            return False
        try:
            with self.env.cr.savepoint():
                self._apply()
        except OperationalError as exc:
            if exc.pgcode in CONFLICT_CODES:
                return False
            self._link_to_unit()._fail(str(exc))
        except PicoProcessingError as exc:
            self._link_to_unit()._fail(str(exc))
        except Exception as exc:
            _logger.exception("PICO message %s could not be processed", self.id)
            self._link_to_unit()._fail(
                "".join(traceback.format_exception_only(exc)).strip()
            )
        return True

    def _lock_order(self):
        """Serialize the completions of one PICO order, without waiting.

        Concurrent completions of one order would touch the same MOs; the loser
        retries or leaves the message to the cron instead of failing.
        """
        if not self.order_ref:
            return True
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(%s))",
            (f"pico_mes:{self.order_ref}",),
        )
        return self.env.cr.fetchone()[0]

    def _apply(self):
        (event,) = parse_events(self._payload())
        if self.kind == "operation":
            self.env["pico.operation"]._pico_upsert(self.company_id, [event.raw])
            self.env["pico.operation"]._pico_auto_map(self.company_id)
            self._processed("done")
            return
        outcome, unit = self.env["pico.mrp.adapter"]._apply_completion(
            self.company_id, event
        )
        self._processed(outcome, unit)
        if outcome == "unmatched":
            self._notify_unmatched()

    def _link_to_unit(self):
        """Tie a failed completion to its unit and MO, so that the MO shows it."""
        if self.kind == "completion":
            (event,) = parse_events(self._payload())
            unit = self.env["pico.mrp.adapter"]._unit_of(self.company_id, event)
            self.production_id = unit.production_id
        return self

    def _processed(self, state, unit=None):
        values = {"state": state, "error": False, "done_at": fields.Datetime.now()}
        if unit is not None:
            values["production_id"] = unit.production_id.id
        self.write(values)

    def _notify_unmatched(self):
        _logger.warning("PICO completion %s matches no open unit", self.dedup_key)
        if self.production_id:
            self.production_id._pico_schedule_activity(
                self.env._(
                    "PICO reported a completion for a unit Odoo no longer builds "
                    "(%s). Check it in PICO messages.",
                    self.dedup_key,
                )
            )

    # -------------------------------------------------------- reconciliation

    @api.model
    def _cron_reconcile(self):
        """Ask PICO for completions of open orders: catches missed webhooks."""
        for company in self.env["res.company"].search([("pico_enabled", "=", True)]):
            try:  # no savepoint: processing commits message by message
                self.with_company(company)._reconcile_company(company)
            except PicoError as exc:  # raised by PICO calls only: nothing to undo
                _logger.warning(
                    "PICO reconciliation failed for %s: %s", company.name, exc
                )

    @api.model
    def _reconcile_company(self, company):
        refs = [
            ref
            for (ref,) in self.env["pico.unit"]._read_group(
                [("company_id", "=", company.id), ("state", "in", OPEN_STATES)],
                ["external_order_id"],
            )
        ]
        client = company._pico_client()
        try:
            for start in range(0, len(refs), RECONCILE_CHUNK):
                where = {
                    "externalOrderId": {"_in": refs[start : start + RECONCILE_CHUNK]}
                }
                data = client.execute(documents.ORDER_COMPLETES, {"where": where})
                events = self._valid_events(data.get("operationOrderCompletes") or [])
                if events:
                    messages, _duplicates = self._receive(company, events)
                    messages._process()
        finally:
            client.close()

    @api.model
    def _valid_events(self, items):
        events = []
        for item in items:
            try:
                events += parse_events(item)
            except PayloadError as exc:
                _logger.warning("PICO sent an unusable completion: %s", exc)
        return events

    # --------------------------------------------------------------- actions

    def action_retry(self):
        """Send or process failed messages again."""
        to_retry = self.filtered(lambda m: m.state in ("failed", "unmatched"))
        to_retry.write(
            {
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": fields.Datetime.now(),
            }
        )
        to_retry.unit_ids.filtered(lambda u: u.state == "failed").state = "queued"
        to_retry.production_id.pico_error = False
        if to_retry.filtered(lambda m: m.direction == "out"):
            self.env.ref(DISPATCH_CRON).sudo()._trigger()
        if to_retry.filtered(lambda m: m.direction == "in"):
            self.env.ref(PROCESS_CRON).sudo()._trigger()
        return True

    @api.autovacuum
    def _gc_done_messages(self):
        """Delete done messages past the retention period (days; 0 keeps all)."""
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("pico_mes.message_retention_days", 90)
        )
        if days > 0:
            limit = fields.Datetime.now() - timedelta(days=days)
            self.search([("state", "=", "done"), ("done_at", "<", limit)]).unlink()

    @api.model
    def _commit_progress(self):
        """Make each step durable in production; tests keep their transaction."""
        if not _testing():
            self.env.cr.commit()  # pylint: disable=invalid-commit


def _testing():
    return getattr(threading.current_thread(), "testing", False)
