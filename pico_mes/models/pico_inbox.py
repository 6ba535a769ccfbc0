import json
import logging
import random
import time
import traceback

from psycopg2 import OperationalError

from odoo import api, fields, models

from .. import compat
from ..exceptions import PicoProcessingError
from ..services import cron_budget
from ..services.conflicts import CONFLICT_CODES, expected_conflicts
from ..services.payload import parse_events
from .pico_message import PROCESS_CRON
from .res_company import ORDER_REF_SEPARATOR

_logger = logging.getLogger(__name__)
_foreign_logged = set()  # (database, company id, prefix) logged by this process

CLAIM_LIMIT = 200
ORDER_CLAIM_FACTOR = 10  # an order's later completions: up to 10 claims' worth
# completions applied in one transaction by a run with a time budget: a unit of
# work no run can stop in the middle of (50 serial units: about 20 s on 2 cores)
BUDGETED_GROUP_LIMIT = 50
INLINE_TRIES = 3


class PicoInbox(models.AbstractModel):
    """Stores each event PICO sends once, then applies it: single units through
    ``pico.mrp.adapter``, bursts through ``pico.mrp.batch``.

    A received row is committed before it is processed. A write conflict with a
    concurrent completion of the same order is retried, then left pending for
    the cron: never failed.

    Pending completions of one PICO order are applied in one transaction, and
    those of one MO produced together; any other message, and a lone
    completion, is applied in its own transaction, with no waiting.
    In a group, work-in-progress events come first, then the burst, then
    whatever the burst left (a second completion of a unit, one that fails),
    one by one in order. If a burst raises, its completions fall back to one by
    one: the bad one fails alone. Each message is done in the transaction of
    its stock effect.
    """

    _name = "pico.inbox"
    _description = "PICO Inbox"

    # ----------------------------------------------------------- receiving

    @api.model
    def _receive_delivery(self, company, events):
        """A webhook delivery: events about another company's or another
        database's orders are not ours (PICO delivers every event to every
        subscription): ignored, and only counted. The others are received.

        Returns (new messages, number of duplicates, number ignored).
        """
        ours, foreign = [], []
        for event in events:
            ref = getattr(event, "external_order_id", None)
            if ref and not company._pico_owns_order_ref(ref):
                foreign.append(ref.partition(ORDER_REF_SEPARATOR)[0])
            else:
                ours.append(event)
        if foreign:
            self.env["pico.foreign.count"]._count(company, foreign)
            _log_foreign_once(company, foreign)
        messages, duplicates = self._receive(company, ours)
        return messages, duplicates, len(foreign)

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

    # ------------------------------------------------------------ claiming

    @api.model
    def _cron_process(self):
        """Under the cron runner: claim and process until nothing is pending or
        the run's time budget is spent, then trigger the next run for the rest
        (on any node). Called directly: until nothing is pending."""
        if not self.env.context.get("ir_cron_progress_id"):
            while messages := self._claim_pending():
                self._process(messages)
                if messages.filtered(lambda m: m.state == "pending"):
                    return  # conflicts: left to the next run
            return
        deadline = cron_budget.Deadline.for_this_run()
        inbox = self.with_context(**deadline.context())
        done = 0
        while messages := inbox._claim_pending_quietly():
            inbox._process(messages)
            handled = len(messages.filtered(lambda m: m.state != "pending"))
            done += handled
            if not handled or deadline.passed():
                break  # what conflicts was left to a triggered run
        if deadline.passed() and self._count_pending():
            self.env.ref(PROCESS_CRON).sudo()._trigger()
        compat.cron_progress(self.env, done, 0)  # the trigger runs the rest

    @api.model
    def _claim_pending_quietly(self):
        """``_claim_pending()``, or nothing when a row it meets was changed by
        another worker since this transaction's snapshot: an expected conflict,
        left to a triggered run (a new transaction sees the change)."""
        try:
            with expected_conflicts():
                return self._claim_pending()
        except OperationalError as exc:
            if exc.pgcode not in CONFLICT_CODES:
                raise
        self.env.cr.rollback()
        self.env.invalidate_all()
        self.env.ref(PROCESS_CRON).sudo()._trigger()
        return self.env["pico.message"].browse()

    @api.model
    def _claim_pending(self, ids=None):
        """Lock pending inbound messages: those given, else the oldest and the
        later pending completions of their orders."""
        Message = self.env["pico.message"]
        Message.flush_model()
        self.env.cr.execute(
            """SELECT id FROM pico_message
                WHERE direction = 'in' AND state = 'pending'
                  AND (%(all)s OR id = ANY(%(ids)s))
                ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
            {"all": ids is None, "ids": ids or [], "limit": CLAIM_LIMIT},
        )
        messages = Message.browse([row[0] for row in self.env.cr.fetchall()])
        if ids is not None:
            return messages
        return self._with_order_backlog(messages)

    @api.model
    def _with_order_backlog(self, messages):
        """``messages`` and the later pending completions of their orders, locked:
        a backlog interleaving many orders still comes in bursts."""
        completions = messages.filtered(lambda m: m.kind == "completion")
        refs = list(set(completions.mapped("order_ref")) - {False})
        if not refs:
            return messages
        self.env.cr.execute(
            """SELECT id FROM pico_message
                WHERE direction = 'in' AND state = 'pending' AND kind = 'completion'
                  AND order_ref = ANY(%s) AND id != ALL(%s)
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
            (refs, messages.ids, ORDER_CLAIM_FACTOR * CLAIM_LIMIT),
        )
        more = [row[0] for row in self.env.cr.fetchall()]
        return messages.browse(sorted(messages.ids + more))

    @api.model
    def _count_pending(self):
        return self.env["pico.message"].search_count(
            [("direction", "=", "in"), ("state", "=", "pending")]
        )

    # ---------------------------------------------------------- processing

    @api.model
    def _process(self, messages):
        """Apply each group of ``_processing_groups`` in its own transaction (a
        savepoint inside tests)."""
        testing = compat.testing()
        Message = self.env["pico.message"]
        for position, message_ids in enumerate(self._processing_groups(messages)):
            if position and cron_budget.out_of_time(self.env.context):
                break  # a budgeted run: the rest stays pending for the next
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
        """Lists of message ids, each list applied in one transaction: the
        completions of one PICO order together (one claim's worth at most, less
        in a run with a time budget), any other message alone."""
        limit = CLAIM_LIMIT
        if self.env.context.get(cron_budget.CONTEXT_KEY):
            limit = BUDGETED_GROUP_LIMIT
        groups, by_order = [], {}
        for message in messages:
            if message.kind != "completion" or not message.order_ref:
                groups.append([message.id])
                continue
            key = (message.company_id.id, message.order_ref)
            if len(by_order.get(key, ())) >= limit:  # one claim, or less
                del by_order[key]
            if key not in by_order:
                by_order[key] = []
                groups.append(by_order[key])
            by_order[key].append(message.id)
        return groups

    @api.model
    def _settle(self, message_ids):
        """Claim and apply one group, two or more as a burst; False on a
        transient write conflict."""
        claimed, messages = self._try_claim(message_ids)
        if not claimed:
            return False
        if len(messages) < 2:
            return all(self._apply_or_fail(message) for message in messages)
        if not self._lock_order(messages[0]):
            return False
        return self._apply_burst(messages.sorted("id"))

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

    # ---------------------------------------------------------- one by one

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
        self._explain_scrapped(message)

    @api.model
    def _explain_scrapped(self, message):
        """A late completion of a scrapped unit is unmatched: the message says why."""
        if message.kind != "completion":
            return
        (event,) = parse_events(message._payload())
        unit = self.env["pico.mrp.adapter"]._unit_of(message.company_id, event)
        if unit and unit.state == "scrapped":
            message.error = unit._pico_scrapped_completion_note(event)

    # -------------------------------------------------------------- bursts

    @api.model
    def _apply_burst(self, messages):
        """Apply one order's messages; False on a transient write conflict."""
        Batch = self.env["pico.mrp.batch"]
        events = [parse_events(m._payload())[0] for m in messages]
        units = Batch._root_units(messages[0].company_id, events)
        roots = [
            (message, unit, event)
            for message, unit, event in zip(messages, units, events, strict=True)
            if unit
        ]
        work_in_progress = messages.filtered(
            lambda m: m not in {message for message, _u, _e in roots}
        )
        if not all(self._apply_or_fail(m) for m in work_in_progress):
            return False
        try:  # the MOs' row locks: a concurrent change is retried, as one by one
            with expected_conflicts(), self.env.cr.savepoint():
                batches, rest = Batch._burst_batches(roots)
        except OperationalError as exc:
            if exc.pgcode in CONFLICT_CODES:
                return False
            raise
        for production, items in batches.items():
            produced = self._produce_burst(production, items)
            if produced is None:
                return False
            done = {item.message for item in produced}
            rest += [message for message, _u, _e in items if message not in done]
        rest = self.env["pico.message"].union(*rest).sorted("id")
        return all(self._apply_or_fail(message) for message in rest)

    @api.model
    def _produce_burst(self, production, items):
        """The BurstItems produced and their messages done; [] when the burst
        fell through to one by one; None on a transient write conflict."""
        try:
            with expected_conflicts(), self.env.cr.savepoint():
                produced = self.env["pico.mrp.batch"]._produce_burst(production, items)
                for item in produced:
                    item.message._set_done(production=item.unit.production_id)
                return produced
        except OperationalError as exc:
            if exc.pgcode in CONFLICT_CODES:
                return None
            error = exc
        except Exception as exc:  # noqa: BLE001 -- the one-by-one path reports it
            error = exc
        _logger.info(
            "PICO burst of %s completions on %s: one by one (%s)",
            len(items),
            production.display_name,
            error,
        )
        return []


def _log_foreign_once(company, prefixes):
    """One INFO line per process, company and prefix; the settings count them."""
    for prefix in sorted(set(prefixes)):
        key = (company.env.cr.dbname, company.id, prefix)
        if key not in _foreign_logged:
            _foreign_logged.add(key)
            _logger.info(
                "PICO delivers orders under prefix %s (another company or "
                "database) to the webhook of %s: ignored, counted in the settings",
                prefix,
                company.name,
            )
