import threading

from psycopg2 import Error, errorcodes

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from ..services.payload import parse_events

WAIT = 20  # seconds a thread waits for the other one at most


@tagged("post_install", "-at_install")
class TestTwoWorkers(TransactionCase):
    """Issue 18, two nodes: what the two-node reliability case met, replayed
    with two real cursors in two threads, as a worker of each node. Committed
    data only: each test deletes what it made."""

    def setUp(self):
        super().setUp()
        self.company_id = self.env.ref("base.main_company").id

    def run_in_two_workers(self, first, second):
        """``second`` takes its snapshot, ``first`` commits, then ``second``
        goes on (it cannot see what ``first`` committed). Each is called with
        an environment of its own cursor; returns {name: result or pgcode}."""
        snapshot, committed = threading.Event(), threading.Event()
        outcomes = {}

        def worker(name, action, before=None, after=None):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    cr.execute("SELECT 1")  # the transaction's snapshot
                    if before:
                        before()
                    outcomes[name] = action(env)
            except Error as exc:
                outcomes[name] = exc.pgcode
            finally:
                if after:
                    after()

        threads = [
            threading.Thread(
                target=worker,
                args=("second", second),
                kwargs={"before": lambda: (snapshot.set(), committed.wait(WAIT))},
            ),
            threading.Thread(
                target=worker,
                args=("first", first),
                kwargs={"before": lambda: snapshot.wait(WAIT), "after": committed.set},
            ),
        ]
        with self.assertNoLogs("odoo.sql_db", level="ERROR"):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(WAIT * 2)
        return outcomes

    def execute(self, query, params=()):
        with self.registry.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    # ----------------------------------------------------------- catalog

    def test_an_operation_two_workers_create_at_once_is_a_quiet_conflict(self):
        """A sync on one node and PICO's webhook (or a sync) on the other: the
        second INSERT is a conflict Odoo retries, never a duplicate key error."""
        operation = {
            "id": "op-two-workers",
            "name": "Two workers",
            "updatedAt": "2026-01-01T10:00:00.000Z",
        }
        self.addCleanup(
            self.execute, "DELETE FROM pico_operation WHERE pico_id = 'op-two-workers'"
        )

        def upsert(env):
            company = env["res.company"].browse(self.company_id)
            return env["pico.operation"]._pico_upsert(company, [operation])

        outcomes = self.run_in_two_workers(upsert, upsert)
        self.assertEqual(outcomes["first"], (1, 0))
        self.assertEqual(outcomes["second"], errorcodes.SERIALIZATION_FAILURE)
        self.assertEqual(
            self.execute(
                "SELECT count(*) FROM pico_operation WHERE pico_id = 'op-two-workers'"
            ),
            [(1,)],
        )

    # -------------------------------------------------------- completions

    def make_order(self):
        """A committed MO with two PICO units and their pending completions."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(self.company_id)
            product = env["product.product"].create(
                {"name": "Two workers kit", "is_storable": True}
            )
            production = env["mrp.production"].create(
                {"product_id": product.id, "product_qty": 2}
            )
            operation = env["pico.operation"].create(
                {"pico_id": "op-two-workers-kit", "name": "Kit"}
            )
            env["pico.unit"].create(
                [
                    {
                        "external_order_id": "TWO-WORKERS/1",
                        "operation_id": operation.id,
                        "operation_pico_id": operation.pico_id,
                        "order_index": index,
                        "production_id": production.id,
                        "company_id": company.id,
                        "state": "sent",
                    }
                    for index in range(2)
                ]
            )
            events = parse_events(
                [
                    {
                        "externalOrderId": "TWO-WORKERS/1",
                        "operation": {"id": operation.pico_id},
                        "orderIndex": index,
                        "at": "2026-01-01T10:00:00Z",
                    }
                    for index in range(2)
                ]
            )
            messages, _duplicates = env["pico.inbox"]._receive(company, events)
            made = (messages.ids, production.id, operation.id, product.id)
        self.addCleanup(self.delete_order, *made)
        return made

    def delete_order(self, message_ids, production_id, operation_id, product_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["pico.message"].browse(message_ids).unlink()
            env["pico.unit"].search([("production_id", "=", production_id)]).unlink()
            env["mrp.production"].browse(production_id).unlink()
            env["pico.operation"].browse(operation_id).unlink()
            env["product.product"].browse(product_id).active = False  # moves left

    def test_completions_of_an_mo_another_worker_changed_are_retried_quietly(self):
        """The process cron on one node, the MO changed by a worker of the other
        since its snapshot: the burst's lock on the MO is a conflict, retried in
        a new transaction, and the cron does not fail."""
        message_ids, production_id, *_rest = self.make_order()

        def change_the_mo(env):
            env.cr.execute(
                "UPDATE mrp_production SET write_date = now() WHERE id = %s",
                (production_id,),
            )
            return "changed"

        def process(env):
            messages = env["pico.message"].browse(message_ids)
            env["pico.inbox"]._process(messages)
            return "returned"

        outcomes = self.run_in_two_workers(change_the_mo, process)
        self.assertEqual(outcomes, {"first": "changed", "second": "returned"})
        states = self.execute(
            "SELECT state FROM pico_message WHERE id = ANY(%s)", (message_ids,)
        )
        # retried in a new transaction (a draft MO: unmatched); left pending for
        # the cron where the test runner marks every thread as testing
        self.assertIn(set(states), ({("unmatched",)}, {("pending",)}))

    def completion(self, ref):
        (event,) = parse_events(
            {
                "externalOrderId": ref,
                "operation": {"id": "op-sensor-kit"},
                "orderIndex": 0,
                "at": "2026-01-01T10:00:00Z",
            }
        )
        self.addCleanup(
            self.execute, "DELETE FROM pico_message WHERE dedup_key = %s", (event.key,)
        )
        return event

    def test_reconciliation_storing_what_a_webhook_just_stored_retries_quietly(self):
        """Reconciliation on one node, PICO's webhook of the same completion on
        the other: the conflicting INSERT is retried in a new transaction, where
        the completion is a duplicate; the cron does not fail."""
        event = self.completion("TWO-WORKERS/RECONCILE")

        def webhook(env):
            company = env["res.company"].browse(self.company_id)
            return len(env["pico.inbox"]._receive(company, [event])[0])

        def reconcile(env):
            company = env["res.company"].browse(self.company_id)
            return len(env["pico.reconciliation"]._store(company, [event]))

        outcomes = self.run_in_two_workers(webhook, reconcile)
        self.assertEqual(outcomes, {"first": 1, "second": 0})

    def test_a_claim_meeting_a_message_another_worker_changed_leaves_it_quietly(self):
        """The process cron claims on one node a message a worker of the other
        node changed since its snapshot: nothing claimed this time, and a new
        run is triggered (a new transaction sees the change)."""
        event = self.completion("TWO-WORKERS/CLAIM")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].browse(self.company_id)
            message_id = env["pico.inbox"]._receive(company, [event])[0].id
        cron_id = self.env.ref("pico_mes.ir_cron_pico_process").id
        triggers = "SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s"
        (before,) = self.execute(triggers, (cron_id,))

        def change(env):
            env.cr.execute(
                "UPDATE pico_message SET write_date = now() WHERE id = %s",
                (message_id,),
            )
            return "changed"

        def claim(env):
            return len(env["pico.inbox"]._claim_pending_quietly())

        outcomes = self.run_in_two_workers(change, claim)
        self.assertEqual(outcomes, {"first": "changed", "second": 0})
        self.assertEqual(self.execute(triggers, (cron_id,)), [(before[0] + 1,)])
        self.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", (cron_id,))
