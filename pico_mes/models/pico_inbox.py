import json
import logging
import random
import threading
import time
import traceback
from contextlib import contextmanager

from psycopg2 import OperationalError, errorcodes

from odoo import api, fields, models

from ..exceptions import PicoProcessingError
from ..services.payload import parse_events
from .pico_message import PROCESS_CRON, _testing

_logger = logging.getLogger(__name__)

CLAIM_LIMIT = 200
INLINE_TRIES = 3
CONFLICT_CODES = {
    errorcodes.SERIALIZATION_FAILURE,
    errorcodes.DEADLOCK_DETECTED,
    errorcodes.LOCK_NOT_AVAILABLE,
}


class _MuteExpectedConflicts(logging.Filter):
    """Drop sql_db's "bad query" ERROR for a write conflict of this thread: the
    conflict is expected and retried by design, and operators alert on ERROR."""

    def __init__(self):
        super().__init__()
        self.thread = threading.get_ident()

    def filter(self, record):
        if threading.get_ident() != self.thread:
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        exc = args[-1] if args else None
        return getattr(exc, "pgcode", None) not in CONFLICT_CODES


@contextmanager
def expected_conflicts():
    """While inside, this thread's expected write conflicts log no ERROR line."""
    sql_logger = logging.getLogger("odoo.sql_db")
    muted = _MuteExpectedConflicts()
    sql_logger.addFilter(muted)
    try:
        yield
    finally:
        sql_logger.removeFilter(muted)


class PicoInbox(models.AbstractModel):
    """Stores each event PICO sends once, then applies it through the adapter.

    A received row is committed before it is processed; each is applied in its
    own transaction. A write conflict with a concurrent completion of the same
    order is retried, then left pending for the cron: never failed.
    """

    _name = "pico.inbox"
    _description = "PICO Inbox"

    @api.model
    def _receive(self, company, events):
        """Persist events, deduplicated by their key, in one INSERT.

        Returns (new messages, number of duplicates). The UNIQUE key makes a
        concurrent delivery of the same event a duplicate too (a conflict with an
        uncommitted twin is retried by the caller's transaction, quietly).
        """
        Message = self.env["pico.message"]
        if not events:
            return Message.browse(), 0
        now = fields.Datetime.now()
        uid = self.env.uid
        Message.flush_model()
        values_sql = ", ".join(
            ["(%s, 'in', %s, %s, %s, %s, 'pending', 0, %s, %s, %s, %s, %s)"]
            * len(events)
        )
        params = [
            value
            for e in events
            for value in (
                company.id,
                e.kind,
                e.key,
                getattr(e, "external_order_id", None),
                json.dumps(e.raw, sort_keys=True),
                now,
                now,
                now,
                uid,
                uid,
            )
        ]
        with expected_conflicts():
            self.env.cr.execute(
                f"""INSERT INTO pico_message
                       (company_id, direction, kind, dedup_key, order_ref, payload,
                        state, attempts, next_attempt_at, create_date, write_date,
                        create_uid, write_uid)
                    VALUES {values_sql}
                    ON CONFLICT (company_id, dedup_key) DO NOTHING
                    RETURNING id""",  # noqa: S608 -- placeholders only
                params,
            )
        new_ids = [row[0] for row in self.env.cr.fetchall()]
        return Message.browse(new_ids), len(events) - len(new_ids)

    @api.model
    def _cron_process(self):
        """Under the cron runner: one batch, then Odoo's progress API; called
        directly: until nothing is pending."""
        if self.env.context.get("ir_cron_progress_id"):
            messages = self._claim_pending()
            self._process(messages)
            self.env["ir.cron"]._notify_progress(
                done=len(messages), remaining=self._count_pending()
            )
            return
        while messages := self._claim_pending():
            self._process(messages)
            if messages.filtered(lambda m: m.state == "pending"):
                return  # conflicts: left to the next run

    @api.model
    def _claim_pending(self, ids=None):
        """Lock pending inbound messages (those given, else the oldest)."""
        Message = self.env["pico.message"]
        Message.flush_model()
        self.env.cr.execute(
            """SELECT id FROM pico_message
                WHERE direction = 'in' AND state = 'pending'
                  AND (%(all)s OR id = ANY(%(ids)s))
                ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            {"all": ids is None, "ids": ids or [], "limit": CLAIM_LIMIT},
        )
        return Message.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _count_pending(self):
        return self.env["pico.message"].search_count(
            [("direction", "=", "in"), ("state", "=", "pending")]
        )

    @api.model
    def _process(self, messages):
        """Apply each group of messages in its own transaction (a savepoint inside
        tests); a group is one message unless ``_processing_groups`` says more."""
        testing = _testing()
        Message = self.env["pico.message"]
        for message_ids in self._processing_groups(messages):
            for attempt in range(INLINE_TRIES):
                settled = self._settle(message_ids)
                if settled or testing:
                    break
                self.env.cr.rollback()
                self.env.invalidate_all()
                time.sleep(random.uniform(0.05, 0.2) * 2**attempt)
            else:
                self.env.ref(PROCESS_CRON).sudo()._trigger()
            Message._commit_progress()

    @api.model
    def _processing_groups(self, messages):
        """Lists of message ids, each list applied in one transaction."""
        return [[message_id] for message_id in messages.ids]

    @api.model
    def _settle(self, message_ids):
        """Claim and apply one group; False on a transient write conflict."""
        claimed, messages = self._try_claim(message_ids)
        if not claimed:
            return False
        return all(self._apply_or_fail(message) for message in messages)

    @api.model
    def _try_claim(self, message_ids):
        """(False, None) when another worker changed a row since this
        transaction's snapshot (a quiet, expected conflict); else (True, messages)."""
        try:
            with expected_conflicts():
                return True, self._claim_pending(list(message_ids))
        except OperationalError as exc:
            if exc.pgcode not in CONFLICT_CODES:
                raise
            return False, None

    @api.model
    def _apply_or_fail(self, message):
        """Apply; return False on a transient write conflict, True otherwise."""
        if not self._lock_order(message):
            return False
        try:
            with expected_conflicts(), self.env.cr.savepoint():
                self._apply(message)
        except OperationalError as exc:
            if exc.pgcode in CONFLICT_CODES:
                return False
            self._link_to_unit(message)._set_failed(str(exc))
        except PicoProcessingError as exc:
            self._link_to_unit(message)._set_failed(str(exc))
        except Exception as exc:
            _logger.exception("PICO message %s could not be processed", message.id)
            self._link_to_unit(message)._set_failed(
                "".join(traceback.format_exception_only(exc)).strip()
            )
        return True

    @api.model
    def _lock_order(self, message):
        """Serialize the completions of one company's PICO order, without waiting:
        the loser retries or leaves the message to the cron instead of failing."""
        if not message.order_ref:
            return True
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext(%s))",
            (f"pico_mes:{message.company_id.id}:{message.order_ref}",),
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _apply(self, message):
        (event,) = parse_events(message._payload())
        if message.kind == "operation":
            Operation = self.env["pico.operation"]
            Operation._pico_upsert(message.company_id, [event.raw])
            Operation._pico_auto_map(message.company_id)
            message._set_done()
            return
        outcome, unit = self.env["pico.mrp.adapter"]._apply_completion(
            message.company_id, event
        )
        production = unit.production_id if unit is not None else None
        if outcome == "unmatched":
            message._set_unmatched(production)
            self._notify_unmatched(message)
        else:
            message._set_done(production=production)

    @api.model
    def _link_to_unit(self, message):
        """Tie a failed completion to its unit and MO, so that the MO shows it."""
        if message.kind == "completion":
            (event,) = parse_events(message._payload())
            unit = self.env["pico.mrp.adapter"]._unit_of(message.company_id, event)
            message.production_id = unit.production_id
        return message

    @api.model
    def _notify_unmatched(self, message):
        _logger.warning("PICO completion %s matches no open unit", message.dedup_key)
        if message.production_id:
            message.production_id._pico_schedule_activity(
                self.env._(
                    "PICO reported a completion for a unit Odoo no longer builds "
                    "(%s). Check it in PICO messages.",
                    message.dedup_key,
                )
            )
