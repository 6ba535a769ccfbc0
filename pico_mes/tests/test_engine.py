from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..exceptions import PicoStateError
from .common import TOKEN, PicoTransactionCase


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
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "groups_id": [Command.set([cls.env.ref(group).id])],
            }
        )

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
        self.sim.clear_faults()
        self.company._pico_register_webhooks()
        self.assertFalse(Company._pico_company_for_secret(old))
        self.assertEqual(Company._pico_company_for_secret(new), self.company)

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
