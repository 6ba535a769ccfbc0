import logging

from odoo import api, models

from .. import compat
from ..exceptions import PicoError
from ..services import documents
from ..services.payload import PayloadError, parse_events
from .pico_unit import OPEN_STATES

_logger = logging.getLogger(__name__)

RECONCILE_CHUNK = 100


class PicoReconciliation(models.AbstractModel):
    """Asks PICO for the completions of open orders: catches missed webhooks."""

    _name = "pico.reconciliation"
    _description = "PICO Reconciliation"

    @api.model
    def _cron_reconcile(self):
        companies = self.env["res.company"]._pico_live_companies()
        for done, company in enumerate(companies):
            try:  # no savepoint: processing commits message by message
                self.with_company(company)._reconcile_company(company)
            except PicoError as exc:  # raised by PICO calls only: nothing to undo
                _logger.warning(
                    "PICO reconciliation failed for %s: %s", company.name, exc
                )
            compat.cron_progress(self.env, 1, len(companies) - done - 1)

    @api.model
    def _reconcile_company(self, company):
        refs = self._open_order_refs(company)
        with company._pico_client() as client:
            for start in range(0, len(refs), RECONCILE_CHUNK):
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
        processing rolls back, and must not take the chunk with it."""
        Inbox = self.env["pico.inbox"]
        messages, _duplicates = Inbox._receive(company, events)
        self.env["pico.message"]._commit_progress()
        Inbox._process(messages)

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
