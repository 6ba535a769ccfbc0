from odoo.exceptions import AccessError, UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from .common import TOKEN, PicoTransactionCase, make_user


@tagged("post_install", "-at_install")
class TestDatabaseCopy(PicoTransactionCase):
    """A copy of the database (Odoo gives a duplicate or a restore "as a copy" a
    new database.uuid; a staging copy is neutralized) never talks to PICO under
    production's order prefix, subscriptions or BoM-transfer ids: it holds every
    call to PICO until an administrator confirms a new prefix.

    These tests make the copy inside the test database (what Odoo's duplicate
    and neutralize do to it); ``tests/reliability/test_neighbours.py`` starts real
    copies on their own servers."""

    def setUp(self):
        super().setUp()
        self.company.pico_public_url = "http://odoo.example:8069"
        self.company._pico_register_webhooks()
        self.production = {
            "prefix": self.company.pico_order_prefix,
            "subscriptions": {
                s["subscriptionID"]: s["webhookHeaders"]
                for s in self.sim.subscriptions()
            },
            "wi_prefix": self.company._pico_wi_prefix(),
            "secret": self.company._pico_webhook_secret(),
        }
        self.sent_order = self.make_mo(self.sensor, 2)  # open in production's PICO
        self.dispatch()
        self.waiting_order = self.make_mo(self.sensor, 1)  # not sent when copied

    # ------------------------------------------------------------- helpers

    def copy_database(self):
        """What Odoo's duplicate and restore-as-copy do: a new database.uuid."""
        self.env["ir.config_parameter"].init(force=True)
        self.env.invalidate_all()

    def neutralize(self, enable_again=True):
        """What ``odoo-bin neutralize`` does (database.uuid unchanged); then an
        administrator points the staging copy at a PICO again."""
        self.env.flush_all()
        for query in get_neutralization_queries(["pico_mes"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        if enable_again:
            self.company.write({"pico_enabled": True, "pico_api_token": TOKEN})

    def settings(self):
        return self.env["res.config.settings"].create({})

    def pico_requests(self):
        return self.sim.stats()["graphqlRequests"]

    def assert_held(self, reason):
        settings = self.settings()
        self.assertIn(reason, settings.pico_copy_hold_reason)
        before = self.pico_requests()
        new_order = self.make_mo(self.sensor, 1)
        self.dispatch()
        self.env["pico.reconciliation"]._cron_reconcile()
        self.env["pico.operation"]._cron_sync_operations()
        for action in (
            settings.action_pico_register_webhooks,
            settings.action_pico_sync_operations,
            settings.action_pico_test_connection,
        ):
            answer = action()["params"]
            self.assertEqual(answer["type"], "danger")
            self.assertIn(reason, answer["message"])
        self.assertEqual(self.pico_requests(), before, "nothing reaches PICO")
        self.assertEqual(self.messages(new_order).state, "pending")
        # neutralizing failed it ("not sent"); a copy holds it
        self.assertIn(self.messages(self.waiting_order).state, ("pending", "failed"))
        return new_order

    def confirm(self, prefix=None):
        settings = self.settings()
        if prefix:
            settings.pico_new_order_prefix = prefix
        return settings.action_pico_confirm_new_prefix()

    # --------------------------------------------------------------- tests

    def test_a_copy_with_a_new_database_uuid_holds_pico_and_says_why(self):
        self.copy_database()
        self.assert_held("copy")
        self.assertEqual(
            {s["subscriptionID"] for s in self.sim.subscriptions()},
            set(self.production["subscriptions"]),
        )

    def test_the_original_moved_resumes_once_its_uuid_is_set_back(self):
        """Restored "as a copy" by mistake: the banner's other way out."""
        Parameters = self.env["ir.config_parameter"]
        original = Parameters.get_param("database.uuid")
        self.copy_database()
        self.assertIn(original, self.settings().pico_copy_hold_reason)
        Parameters.set_param("database.uuid", original)
        self.env.invalidate_all()  # the next request
        self.assertFalse(self.settings().pico_copy_hold_reason)
        self.dispatch()
        self.assertEqual(self.sim_orders(self.waiting_order), [(0, "open")])

    def test_a_neutralized_copy_holds_pico_even_when_enabled_again(self):
        self.neutralize()
        self.assert_held("neutralized")

    def test_a_held_prefix_changes_only_by_confirmation(self):
        self.copy_database()
        with self.assertRaisesRegex(UserError, "Confirm"):
            self.company.pico_order_prefix = "STAGING"
        with self.assertRaisesRegex(UserError, "production"):
            self.confirm(self.production["prefix"])
        self.assertEqual(self.company.pico_order_prefix, self.production["prefix"])

    def test_only_an_administrator_confirms_a_new_prefix(self):
        self.copy_database()
        for login, group in (
            ("copy-pico-manager", "pico_mes.group_pico_manager"),
            ("copy-mrp-manager", "mrp.group_mrp_manager"),
        ):
            user = make_user(self.env, login, group)
            with self.assertRaises(AccessError, msg=login):
                self.company.with_user(user)._pico_confirm_new_prefix("STAGING-1")
        self.assertTrue(self.company._pico_copy_hold())

    def test_no_user_releases_a_copy_by_writing_its_identity(self):
        self.copy_database()
        admin = make_user(self.env, "copy-admin", "base.group_system")
        uuid = self.env["ir.config_parameter"].get_param("database.uuid")
        for values in (
            {"pico_identity_database_uuid": uuid},
            {"pico_identity": "0123456789abcdef"},
        ):
            with self.assertRaises(AccessError, msg=values):
                self.company.with_user(admin).write(values)
        self.assertTrue(self.company._pico_copy_hold())

    def test_confirming_a_new_prefix_resumes_under_new_ids(self):
        self.copy_database()
        held_order = self.assert_held("copy")
        proposed = self.settings().pico_new_order_prefix
        self.assertNotEqual(proposed, self.production["prefix"])
        answer = self.confirm()["params"]
        self.assertEqual(answer["type"], "success", answer)
        self.assertFalse(self.company._pico_copy_hold())
        self.assertEqual(self.company.pico_order_prefix, proposed)
        # production's subscriptions are untouched; the copy has its own
        subscriptions = {
            s["subscriptionID"]: s["webhookHeaders"] for s in self.sim.subscriptions()
        }
        for subscription_id, headers in self.production["subscriptions"].items():
            self.assertEqual(subscriptions.pop(subscription_id), headers)
        self.assertEqual(len(subscriptions), 2)
        new_secret = self.company._pico_webhook_secret()
        self.assertNotEqual(new_secret, self.production["secret"])
        self.assertEqual(
            {h["X-Pico-Webhook-Secret"] for h in subscriptions.values()}, {new_secret}
        )
        self.assertNotEqual(
            self.company._pico_wi_prefix(), self.production["wi_prefix"]
        )
        # what was queued under production's prefix is never sent, and says why
        for production in (self.waiting_order, held_order):
            message = self.messages(production)
            self.assertEqual(message.state, "discarded")
            self.assertIn("copy", message.discard_reason)
        # a copied order cancelled in the copy stays open in production's PICO
        self.sent_order.action_cancel()
        self.dispatch()
        self.assertEqual(
            self.messages(self.sent_order, kind="order_cancel").state, "discarded"
        )
        self.assertEqual(
            {o["state"] for o in self.sim.orders(self.sent_order.pico_order_ref)},
            {"open"},
        )
        # nor does the copy produce production's completions
        self.sim.complete_unit(self.sent_order.pico_order_ref, "op-sensor-kit", 0)
        self.env["pico.reconciliation"]._cron_reconcile()
        self.assertFalse(
            self.messages(self.sent_order).filtered(lambda m: m.direction == "in")
        )
        for order in (self.waiting_order, held_order):
            self.assertFalse(self.sim.orders(order.pico_order_ref))
        # new orders go out under the new prefix
        new_order = self.make_mo(self.sensor, 1)
        self.dispatch()
        self.assertTrue(new_order.pico_order_ref.startswith(f"{proposed}:"))
        self.assertEqual(self.sim_orders(new_order), [(0, "open")])

    def test_a_neutralized_copy_never_takes_production_ids(self):
        """Same database.uuid as production: the new ids cannot come from it."""
        self.neutralize()
        proposed = self.settings().pico_new_order_prefix
        self.assertNotEqual(proposed, self.production["prefix"])
        self.assertEqual(self.confirm()["params"]["type"], "success")
        self.assertNotEqual(
            self.company._pico_wi_prefix(), self.production["wi_prefix"]
        )
        ids = {s["subscriptionID"] for s in self.sim.subscriptions()}
        self.assertEqual(len(ids - set(self.production["subscriptions"])), 2)
        self.assertNotEqual(
            self.company._pico_default_order_prefix(self.company.id),
            self.production["prefix"],
        )

    def test_a_company_created_in_a_copy_shares_no_id_with_production(self):
        self.neutralize()
        first = self.env["res.company"].create({"name": "Created in the copy"})
        self.assertFalse(first._pico_copy_hold())
        self.assertNotEqual(
            first._pico_wi_prefix()[:9], self.production["wi_prefix"][:9]
        )
        self.assertFalse(
            first.pico_order_prefix.startswith(self.production["prefix"].split("-")[0])
        )
