import logging

from psycopg2 import OperationalError

from odoo import api, models

from .. import compat
from ..exceptions import PicoError
from ..services import cron_budget, documents
from ..services.conflicts import CONFLICT_CODES, expected_conflicts
from ..services.payload import PayloadError, parse_events
from .pico_message import PROCESS_CRON
from .pico_unit import OPEN_STATES

_logger = logging.getLogger(__name__)

RECONCILE_CHUNK = 100
RECONCILE_CRON = "pico_mes.ir_cron_pico_reconcile"


class PicoReconciliation(models.AbstractModel):
    """Asks PICO for the completions of open orders: catches missed webhooks."""

    _name = "pico.reconciliation"
    _description = "PICO Reconciliation"

    @api.model
    def _cron_reconcile(self):
        """Each PICO-enabled company in turn. Under the cron runner, within the
        run's time budget: what is stored but not processed in time is left to
        the process cron, and the companies or orders not asked about yet to
        the next run (both triggered)."""
        budgeted = bool(self.env.context.get("ir_cron_progress_id"))
        deadline = cron_budget.Deadline.for_this_run() if budgeted else None
        reconciliation = self.with_context(**deadline.context()) if budgeted else self
        companies = self.env["res.company"]._pico_live_companies()
        done = 0
        for company in companies:
            if done and budgeted and deadline.passed():
                self.env.ref(RECONCILE_CRON).sudo()._trigger()
                break
            try:  # no savepoint: processing commits message by message
                reconciliation.with_company(company)._reconcile_company(company)
            except PicoError as exc:  # raised by PICO calls only: nothing to undo
                _logger.warning(
                    "PICO reconciliation failed for %s: %s", company.name, exc
                )
            done += 1
        if budgeted:
            compat.cron_progress(self.env, done, 0)  # the triggers run the rest

    @api.model
    def _reconcile_company(self, company):
        refs = self._open_order_refs(company)
        with company._pico_client() as client:
            for start in range(0, len(refs), RECONCILE_CHUNK):
                if start and cron_budget.out_of_time(self.env.context):
                    self.env.ref(RECONCILE_CRON).sudo()._trigger()
                    return
                where = {
                    "externalOrderId": {"_in": refs[start : start + RECONCILE_CHUNK]}
                }
                data = client.execute(documents.ORDER_COMPLETES, {"where": where})
                events = self._valid_events(data.get("operationOrderCompletes") or [])
                if events:
                    self._store_and_process(company, events)

    @api.model
    def _store_and_process(self, company, events):
        """Commit the received chunk before processing it: a write conflict while
        processing rolls back, and must not take the chunk with it. What a
        budgeted run has no time left to process is left to the process cron."""
        Inbox = self.env["pico.inbox"]
        messages = self._store(company, events)
        if not messages:
            return
        if not cron_budget.out_of_time(self.env.context):
            Inbox._process(messages)
        if messages.filtered(lambda m: m.state == "pending"):
            self.env.ref(PROCESS_CRON).sudo()._trigger()

    @api.model
    def _store(self, company, events):
        """The new messages, committed. A webhook delivering the same events on
        another worker at this moment is an expected conflict: the chunk is
        stored again in a new transaction, where those events are duplicates."""
        Inbox, Message = self.env["pico.inbox"], self.env["pico.message"]
        for attempt in range(2):
            try:
                with expected_conflicts():
                    messages, _duplicates = Inbox._receive(company, events)
                    Message._commit_progress()
                    return messages
            except OperationalError as exc:
                if exc.pgcode not in CONFLICT_CODES or attempt:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
        return Message.browse()

    @api.model
    def _open_order_refs(self, company):
        """The company's open orders (in a copy, not those of the original)."""
        return [
            ref
            for (ref,) in self.env["pico.unit"]._read_group(
                [("company_id", "=", company.id), ("state", "in", OPEN_STATES)],
                ["external_order_id"],
            )
            if company._pico_owns_order_ref(ref)
        ]

    @api.model
    def _valid_events(self, items):
        events = []
        for item in items:
            try:
                events += parse_events(item)
            except PayloadError as exc:
                _logger.warning("PICO sent an unusable completion: %s", exc)
        return events
