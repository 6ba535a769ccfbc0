import logging

from psycopg2 import OperationalError

from odoo import api, models

from ..services.payload import parse_events
from . import pico_inbox
from .pico_inbox import CONFLICT_CODES, expected_conflicts

_logger = logging.getLogger(__name__)

ORDER_CLAIM_FACTOR = 10  # an order's later completions: up to 10 claims' worth


class PicoInbox(models.AbstractModel):
    """Pending completions of one PICO order are applied in one transaction, and
    those of one MO produced together (``pico.mrp.adapter._produce_burst``).

    A lone message keeps the one-by-one path, with no waiting. In a group,
    work-in-progress events come first, then the burst, then whatever the burst
    left (a second completion of a unit, one that fails), one by one in order.
    If a burst raises, its completions fall back to one by one: the bad one
    fails alone. Each message is done in the transaction of its stock effect.
    """

    _inherit = "pico.inbox"

    @api.model
    def _claim_pending(self, ids=None):
        """The cron also claims the later pending completions of the orders it
        claimed: a backlog interleaving many orders still comes in bursts."""
        messages = super()._claim_pending(ids)
        if ids is not None:
            return messages
        completions = messages.filtered(lambda m: m.kind == "completion")
        refs = list(set(completions.mapped("order_ref")) - {False})
        if not refs:
            return messages
        self.env.cr.execute(
            """SELECT id FROM pico_message
                WHERE direction = 'in' AND state = 'pending' AND kind = 'completion'
                  AND order_ref = ANY(%s) AND id != ALL(%s)
                ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED""",
            (refs, messages.ids, ORDER_CLAIM_FACTOR * pico_inbox.CLAIM_LIMIT),
        )
        more = [row[0] for row in self.env.cr.fetchall()]
        return messages.browse(sorted(messages.ids + more))

    @api.model
    def _processing_groups(self, messages):
        groups, by_order = [], {}
        for message in messages:
            if message.kind != "completion" or not message.order_ref:
                groups.append([message.id])
                continue
            key = (message.company_id.id, message.order_ref)
            if len(by_order.get(key, ())) >= pico_inbox.CLAIM_LIMIT:  # one claim
                del by_order[key]
            if key not in by_order:
                by_order[key] = []
                groups.append(by_order[key])
            by_order[key].append(message.id)
        return groups

    @api.model
    def _settle(self, message_ids):
        if len(message_ids) < 2:
            return super()._settle(message_ids)
        claimed, messages = self._try_claim(message_ids)
        if not claimed:
            return False
        if len(messages) < 2:
            return super()._settle(messages.ids)
        if not self._lock_order(messages[0]):
            return False
        return self._apply_burst(messages.sorted("id"))

    @api.model
    def _apply_burst(self, messages):
        """Apply one order's messages; False on a transient write conflict."""
        Adapter = self.env["pico.mrp.adapter"]
        events = [parse_events(m._payload())[0] for m in messages]
        units = Adapter._root_units(messages[0].company_id, events)
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
        batches, rest = Adapter._burst_batches(roots)
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
                produced = self.env["pico.mrp.adapter"]._produce_burst(
                    production, items
                )
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
