import json
import logging
from datetime import timedelta

from psycopg2 import OperationalError

from odoo import api, fields, models
from odoo.tools import groupby

from .. import compat
from ..exceptions import PicoError, PicoFalseAnswer, PicoIncompleteAnswer
from ..services import cron_budget, documents
from ..services.conflicts import CONFLICT_CODES, expected_conflicts
from .pico_message import ALIASES_PER_REQUEST, DISPATCH_CRON

_logger = logging.getLogger(__name__)

BACKOFF_SECONDS = (10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
RETRY_WINDOW = timedelta(hours=24)
CLAIM_LIMIT = 200
MAX_ROUNDS = 1000
ORDER_KINDS = ("order_save", "order_cancel")
BATCH_KINDS = (("order_save", "save"), ("order_cancel", "cancel"))
DISPATCHED_KINDS = (*ORDER_KINDS, "bom_transfer")  # webhook registrations: never here


class PicoOutbox(models.AbstractModel):
    """Delivers queued order messages to PICO, strictly in order per order.

    Order saves and cancels go out in batched requests; BoM transfers as one
    Work Instructions call each.

    Only the oldest open message of each (company, order) is ever claimed, so a
    later cancel can never overtake a save that is backing off, has failed, or
    was not executed in the same request. Retryable failures back off (capped)
    for at least RETRY_WINDOW; permanent ones fail at once.
    """

    _name = "pico.outbox"
    _description = "PICO Outbox"

    @api.model
    def _cron_dispatch(self):
        """Under the cron runner: deliver batches until nothing is due or the
        run's time budget is spent, then trigger the next run for the rest (on
        any node). Called directly: deliver until nothing is due."""
        if not self.env.context.get("ir_cron_progress_id"):
            for _round in range(MAX_ROUNDS):
                if not self._dispatch_batch():
                    return
            return
        deadline = cron_budget.Deadline.for_this_run()
        outbox = self.with_context(**deadline.context())
        done = 0
        while handled := outbox._dispatch_batch():
            done += handled
            if deadline.passed():
                if self._count_due():
                    self.env.ref(DISPATCH_CRON).sudo()._trigger()
                break
        compat.cron_progress(self.env, done, 0)  # the trigger runs the rest

    @api.model
    def _dispatch_batch(self):
        """Claim, deliver, commit: the number of messages handled.

        A user's concurrent change of the same units or orders (a cancel) may
        conflict with recording PICO's answers: the batch is rolled back and
        goes out again (saves and cancels are idempotent), without an ERROR.
        """
        try:
            with expected_conflicts():
                messages = self._claim_due()
                self._deliver_by_company(messages)
                self.env["pico.message"]._commit_progress()
        except OperationalError as exc:
            if exc.pgcode not in CONFLICT_CODES or compat.testing():
                raise
            self.env.cr.rollback()
            self.env.invalidate_all()
            _logger.info("PICO dispatch met a concurrent update; it goes out again")
            return 1
        return len(messages)

    @api.model
    def _deliver_by_company(self, messages):
        by_company = groupby(messages, key=lambda m: m.company_id)
        for position, (company, of_company) in enumerate(by_company):
            if position and cron_budget.out_of_time(self.env.context):
                return  # a budgeted run: the rest stays pending, due at once
            self._deliver(company, self.env["pico.message"].union(*of_company))

    _DUE_SQL = """
        FROM pico_message m
        JOIN res_company c ON c.id = m.company_id AND c.pico_enabled
             AND (c.pico_identity_database_uuid IS NULL
                  OR c.pico_identity_database_uuid = %(database_uuid)s)
       WHERE m.direction = 'out' AND m.state = 'pending'
         AND m.kind IN %(kinds)s
         AND m.next_attempt_at <= %(now)s
         AND NOT EXISTS (
             SELECT 1 FROM pico_message p
              WHERE p.company_id = m.company_id AND p.order_ref = m.order_ref
                AND p.direction = 'out' AND p.state IN ('pending', 'failed')
                AND p.id < m.id)
    """

    @api.model
    def _claim_due(self):
        """Lock the oldest open message of each order, when it is due."""
        self.env["pico.message"].flush_model()
        self.env["res.company"].flush_model(
            ["pico_enabled", "pico_identity_database_uuid"]
        )
        self.env.cr.execute(
            f"""SELECT m.id {self._DUE_SQL}
                 ORDER BY m.company_id, m.id
                 LIMIT %(limit)s
                 FOR UPDATE OF m SKIP LOCKED""",  # noqa: S608 -- constant SQL
            self._due_params(limit=CLAIM_LIMIT),
        )
        return self.env["pico.message"].browse([r[0] for r in self.env.cr.fetchall()])

    @api.model
    def _count_due(self):
        self.env["pico.message"].flush_model()
        self.env.cr.execute(
            f"SELECT count(*) {self._DUE_SQL}",  # noqa: S608 -- constant SQL
            self._due_params(),
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _due_params(self, **extra):
        kinds = tuple(self._dispatched_kinds())
        database_uuid = self.env["res.company"]._pico_database_uuid()
        return dict(
            extra, kinds=kinds, now=fields.Datetime.now(), database_uuid=database_uuid
        )

    @api.model
    def _dispatched_kinds(self):
        """The kinds of message this dispatcher claims."""
        return DISPATCHED_KINDS

    @api.model
    def _deliver(self, company, messages):
        """Send saves, then cancels, in requests of at most ALIASES_PER_REQUEST."""
        try:
            client = company._pico_client()
        except PicoError as exc:  # not configured: wait for an administrator
            self._wait(messages, exc)
            return
        with client:
            self._deliver_with(client, messages)

    @api.model
    def _deliver_with(self, client, messages):
        """One request per chunk; in a budgeted run, none once the budget is
        spent (what is left stays pending, due at once)."""
        requests = [
            (chunk, batch_kind)
            for kind, batch_kind in BATCH_KINDS
            for chunk in self._chunks(messages.filtered(lambda m, k=kind: m.kind == k))
        ]
        requests += [
            (message, None) for message in messages if message.kind == "bom_transfer"
        ]
        for position, (chunk, batch_kind) in enumerate(requests):
            if position and cron_budget.out_of_time(self.env.context):
                return
            if batch_kind:
                self._send(client, chunk, batch_kind)
            else:
                self._send_bom_transfer(client, chunk)

    @api.model
    def _send_bom_transfer(self, client, message):
        payload = message._payload()
        document = documents.WORK_INSTRUCTION_DOCUMENTS[payload["document"]]
        try:
            data = client.execute(document, payload["variables"])
            self._check_work_instruction_answer(data)
        except PicoError as exc:
            self._failed(message, exc)
            return
        message._set_done(data)

    @api.model
    def _check_work_instruction_answer(self, data):
        """A Work Instructions mutation did its work only when it answered true:
        false is a refusal; null or no data says nothing (retried as usual)."""
        if not data:
            raise PicoIncompleteAnswer(self.env._("PICO answered without data."))
        for field, answer in data.items():
            if answer is None:
                raise PicoIncompleteAnswer(
                    self.env._("PICO answered %s with null.", field)
                )
            if answer is not True:
                raise PicoFalseAnswer(
                    self.env._(
                        "PICO answered %(field)s with %(answer)s: it did not save it.",
                        field=field,
                        answer=json.dumps(answer),
                    )
                )

    @api.model
    def _chunks(self, messages):
        """Pack whole messages into requests of at most ALIASES_PER_REQUEST inputs."""
        chunk, size = messages.browse(), 0
        for message in messages:
            count = len(message._inputs())
            if chunk and size + count > ALIASES_PER_REQUEST:
                yield chunk
                chunk, size = messages.browse(), 0
            chunk |= message
            size += count
        if chunk:
            yield chunk

    @api.model
    def _send(self, client, messages, batch_kind):
        inputs = [value for message in messages for value in message._inputs()]
        try:
            data, errors = client.execute_partial(
                documents.batched_mutation(batch_kind, len(inputs)),
                documents.batched_variables(inputs),
            )
        except PicoError as exc:
            self._failed(messages, exc)
            return
        self._classify(messages, data or {}, errors)

    @api.model
    def _classify(self, messages, data, errors):
        """Apply the GraphQL rules to PICO's answer, alias by alias.

        An alias is delivered only with a non-null answer. An alias named in an
        error's path is refused (permanent). Any other alias was not executed
        (a spec-conformant server stops at the first failing mutation): it goes
        out again at once when a refusal explains it, else after a back-off.
        """
        refused = {
            str(e["path"][0]): str(e.get("message", ""))
            for e in errors
            if isinstance(e, dict) and e.get("path")
        }
        unexplained = [e for e in errors if not (isinstance(e, dict) and e.get("path"))]
        position = 0
        refused_any, undelivered = False, messages.browse()
        for message in messages:
            count = len(message._inputs())
            aliases = [documents.alias(i) for i in range(position, position + count)]
            position += count
            problems = [refused[a] for a in aliases if a in refused]
            if problems:
                message._set_failed(
                    self.env._("PICO rejected: %s", "; ".join(problems))
                )
                refused_any = True
            elif all(data.get(a) is not None for a in aliases):
                message._set_done({a: data[a] for a in aliases})
            else:
                undelivered |= message
        if not undelivered:
            return
        if unexplained or (refused and not refused_any):
            unexplained = unexplained or list(errors)
            text = "; ".join(str(e.get("message", e)) for e in unexplained[:5])
            undelivered._set_failed(self.env._("PICO rejected the request: %s", text))
        elif refused_any:  # progress is made: the refused message failed
            undelivered._postpone(
                self.env._("Not executed: PICO refused an earlier input."),
                fields.Datetime.now(),
                count_attempt=False,
            )
        else:
            self._failed(
                undelivered,
                PicoIncompleteAnswer(self.env._("PICO answered without a result.")),
            )

    @api.model
    def _failed(self, messages, error):
        """Retryable: back off (capped) until RETRY_WINDOW has passed; else fail."""
        if not error.retryable:
            messages._set_failed(str(error))
            return
        now = fields.Datetime.now()
        retry = messages.filtered(
            lambda m: not m.retrying_since or now - m.retrying_since < RETRY_WINDOW
        )
        (messages - retry)._set_failed(str(error))
        self._wait(retry, error)

    @api.model
    def _wait(self, messages, error):
        """Back off: 10 s after the first failure, growing to at most an hour."""
        now = fields.Datetime.now()
        for message in messages:
            delay = BACKOFF_SECONDS[min(message.attempts, len(BACKOFF_SECONDS) - 1)]
            message._postpone(str(error), now + timedelta(seconds=delay))
        if messages:
            first = min(messages.mapped("next_attempt_at"))
            self.env.ref(DISPATCH_CRON).sudo()._trigger(at=first)
