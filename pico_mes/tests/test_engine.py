import threading
import time
from datetime import datetime

from psycopg2 import OperationalError, errorcodes

from odoo import SUPERUSER_ID, api
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import TransactionCase, tagged

from ..exceptions import PicoStateError
from ..services.payload import OperationEvent, parse_events
from .common import TOKEN, PicoTransactionCase, make_user


@tagged("post_install", "-at_install")
class TestEngine(PicoTransactionCase):
    """Issue 8: named transitions, manager actions, secrets and companies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pico_user = cls.make_user("pico-user", "pico_mes.group_pico_user")
        cls.pico_manager = cls.make_user("pico-manager", "pico_mes.group_pico_manager")

    @classmethod
    def make_user(cls, login, group):
        return make_user(cls.env, login, group)

    def failed_save(self, quantity=1):
        production = self.make_mo(self.sensor, quantity)
        self.sim.set_faults(graphql_error="operation store unavailable", count=1)
        self.dispatch()
        message = self.messages(production, kind="order_save")
        self.assertEqual(message.state, "failed")
        return production, message

    def test_message_transitions_check_their_starting_state(self):
        production = self.make_mo(self.sensor, 1)
        message = self.messages(production)
        with self.assertRaises(PicoStateError):
            message._set_discarded("pending messages are not given up")
        with self.assertRaises(PicoStateError):
            message._set_pending()
        self.dispatch()
        self.assertEqual(message.state, "done")
        for transition in (
            lambda: message._set_failed("late error"),
            lambda: message._set_done(),
            lambda: message._postpone("late", message.next_attempt_at),
        ):
            with self.assertRaises(PicoStateError):
                transition()
        self.assertEqual(message.state, "done")

    def test_unit_transitions_check_their_starting_state(self):
        production = self.make_mo(self.sensor, 2)
        first, second = production.pico_unit_ids
        first._set_sent()
        with self.assertRaises(PicoStateError):
            first._set_failed()
        second._set_sent()._set_in_progress()
        with self.assertRaises(PicoStateError):
            second._set_cancelled()  # PICO started it
        first._set_cancelled()
        self.assertEqual(
            production.pico_unit_ids.mapped("state"), ["cancelled", "in_progress"]
        )

    def test_a_retry_is_recorded_and_the_activity_marked_done(self):
        production, message = self.failed_save()
        activity_type = self.env.ref("pico_mes.mail_activity_pico_attention")
        self.assertEqual(production.activity_ids.activity_type_id, activity_type)
        message.with_user(self.pico_manager).action_retry()
        self.assertEqual(message.state, "pending")
        self.assertFalse(production.activity_ids)
        done = production.message_ids.filtered(
            lambda m: m.mail_activity_type_id == activity_type
        )
        self.assertTrue(done, "the activity is marked done, in the chatter")
        self.assertIn(
            "pico-manager retried", " ".join(production.message_ids.mapped("body"))
        )
        self.dispatch()
        self.assertEqual(message.state, "done")

    def test_only_pico_managers_retry_or_discard(self):
        _production, message = self.failed_save()
        for action in ("action_retry", "action_discard"):
            with self.assertRaises(AccessError):
                getattr(message.with_user(self.pico_user), action)()
        wizard_action = message.with_user(self.pico_manager).action_discard()
        self.assertEqual(wizard_action["res_model"], "pico.message.discard")
        wizard = (
            self.env["pico.message.discard"]
            .with_user(self.pico_manager)
            .with_context(active_ids=message.ids)
            .create({"reason": "duplicate of a manual order in PICO"})
        )
        wizard.action_discard()
        self.assertEqual(message.state, "discarded")
        self.assertEqual(message.discard_reason, "duplicate of a manual order in PICO")

    def test_under_the_cron_runner_batches_until_nothing_is_due(self):
        production = self.make_mo(self.sensor, 2)
        production.action_cancel()  # the cancel waits for the save's batch
        dispatch = self.env.ref("pico_mes.ir_cron_pico_dispatch")
        self.assertEqual(self.run_one_cron_batch(dispatch), (2, 0))
        self.assertEqual(
            self.sim_orders(production), [(0, "cancelled"), (1, "cancelled")]
        )

    def test_inbox_cron_reports_progress_to_the_cron_runner(self):
        events = parse_events(
            [
                {
                    "externalOrderId": f"NOPE/{i}",
                    "operation": {"id": "op-sensor-kit"},
                    "orderIndex": 0,
                    "at": "2026-01-01T10:00:00Z",
                }
                for i in range(2)
            ]
        )
        messages, _duplicates = self.env["pico.inbox"]._receive(self.company, events)
        process = self.env.ref("pico_mes.ir_cron_pico_process")
        self.assertEqual(self.run_one_cron_batch(process), (2, 0))
        self.assertEqual(set(messages.mapped("state")), {"unmatched"})

    def test_rotating_the_secret_keeps_the_old_one_until_pico_has_the_new(self):
        Company = self.env["res.company"]
        self.company._pico_register_webhooks()
        old = self.company._pico_webhook_secret()
        self.sim.set_faults(http_status=503)
        settings = self.env["res.config.settings"].create({})
        action = settings.action_pico_rotate_webhook_secret()
        self.assertEqual(action["params"]["type"], "danger")
        new = self.company._pico_webhook_secret()
        self.assertNotEqual(old, new)
        self.assertEqual(Company._pico_company_for_secret(old), self.company)
        self.assertEqual(Company._pico_company_for_secret(new), self.company)
        self.env.flush_all()
        self.env.cr.execute("SAVEPOINT neutralize")
        for query in get_neutralization_queries(["pico_mes"]):
            self.env.cr.execute(query)
        self.env.cr.execute("SELECT pico_webhook_secret_previous FROM res_company")
        self.assertEqual({row[0] for row in self.env.cr.fetchall()}, {None})
        self.env.cr.execute("ROLLBACK TO SAVEPOINT neutralize")
        self.sim.clear_faults()
        self.company._pico_register_webhooks()
        self.assertFalse(Company._pico_company_for_secret(old))
        self.assertEqual(Company._pico_company_for_secret(new), self.company)

    def test_registering_again_leaves_the_company_row_alone(self):
        """Issue 18: two nodes registering at the same moment must not both
        write the company (the second meets a write conflict, logged as ERROR)."""
        self.company._pico_register_webhooks()
        self.env.flush_all()
        self.env.cr.execute(  # written by an earlier transaction, as in production
            "UPDATE res_company SET write_date = write_date - interval '1 day'"
            " WHERE id = %s",
            (self.company.id,),
        )
        self.env.invalidate_all()

        def row_version():
            self.env.cr.execute(
                "SELECT ctid FROM res_company WHERE id = %s", (self.company.id,)
            )
            return self.env.cr.fetchone()[0]

        before = row_version()
        self.company._pico_register_webhooks()
        self.env.flush_all()
        self.assertEqual(row_version(), before)

    def test_companies_keep_their_own_subscriptions_in_one_pico(self):
        other = self.env["res.company"].create(
            {
                "name": "Other PICO Co",
                "pico_enabled": True,
                "pico_api_url": self.sim.url,
                "pico_api_token": TOKEN,
            }
        )
        self.company._pico_register_webhooks()
        other._pico_register_webhooks()
        subscriptions = self.sim.subscriptions()
        self.assertEqual(len({s["subscriptionID"] for s in subscriptions}), 4)
        secrets = {s["webhookHeaders"]["X-Pico-Webhook-Secret"] for s in subscriptions}
        self.assertEqual(
            secrets, {self.company._pico_webhook_secret(), other._pico_webhook_secret()}
        )
        Company = self.env["res.company"]
        self.assertEqual(
            Company._pico_company_for_secret(other._pico_webhook_secret()), other
        )


@tagged("post_install", "-at_install")
class TestExpectedConflicts(TransactionCase):
    """Real cursors in real threads, as two webhook workers: committed data only."""

    def test_a_concurrent_duplicate_delivery_logs_no_error(self):
        company_id = self.env.ref("base.main_company").id
        event = OperationEvent(
            pico_id="op-burst", updated_at=datetime(2026, 1, 1), raw={"id": "op-burst"}
        )
        self.addCleanup(self._delete_messages, event.key)
        inserted, second_started = threading.Event(), threading.Event()
        outcomes = {}

        def receive(name, before=None, after=None):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    if before:
                        before()
                    company = env["res.company"].browse(company_id)
                    _new, duplicates = env["pico.inbox"]._receive(company, [event])
                    if after:
                        after()
                    outcomes[name] = duplicates
            except OperationalError as exc:
                outcomes[name] = exc.pgcode

        def hold_then_commit():
            inserted.set()
            second_started.wait(5)
            time.sleep(0.5)  # the second INSERT now waits on this row

        def start_after_first():
            inserted.wait(5)
            second_started.set()

        with self.assertNoLogs("odoo.sql_db", level="ERROR"):
            first = threading.Thread(
                target=receive, args=("first",), kwargs={"after": hold_then_commit}
            )
            second = threading.Thread(
                target=receive, args=("second",), kwargs={"before": start_after_first}
            )
            first.start()
            second.start()
            first.join(10)
            second.join(10)
        self.assertEqual(outcomes["first"], 0)
        # the conflict Odoo's HTTP layer retries; the retry finds the duplicate
        self.assertEqual(outcomes["second"], errorcodes.SERIALIZATION_FAILURE)
        receive("retry")
        self.assertEqual(outcomes["retry"], 1)

    def _delete_messages(self, key):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM pico_message WHERE dedup_key = %s", (key,))

    def test_reconciliation_keeps_what_it_received_through_a_conflict(self):
        """A completion whose order another worker holds: processing rolls back
        (and leaves it to the cron), the received chunk stays stored."""
        company_id = self.env.ref("base.main_company").id
        (event,) = parse_events(
            {
                "externalOrderId": "RECON/1",
                "operation": {"id": "op-sensor-kit"},
                "orderIndex": 0,
                "at": "2026-01-01T10:00:00Z",
            }
        )
        self.addCleanup(self._delete_messages, event.key)
        with self.registry.cursor() as holder:
            holder.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))",
                (f"pico_mes:{company_id}:RECON/1",),
            )

            def reconcile():
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    company = env["res.company"].browse(company_id)
                    env["pico.reconciliation"]._store_and_process(company, [event])

            worker = threading.Thread(target=reconcile)
            worker.start()
            worker.join(20)
            holder.rollback()
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT state FROM pico_message WHERE dedup_key = %s", (event.key,)
            )
            self.assertEqual(cr.fetchall(), [("pending",)])
