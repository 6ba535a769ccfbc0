from odoo import Command
from odoo.exceptions import AccessError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import Form, tagged

from ..services.payload import parse_events
from .common import TOKEN, PicoTransactionCase, add_groups


@tagged("post_install", "-at_install")
class TestSettings(PicoTransactionCase):
    def settings(self):
        return self.env["res.config.settings"].create({})

    def test_admin_configures_pico_in_settings(self):
        form = Form(self.env["res.config.settings"])
        form.pico_api_url = self.sim.url
        form.pico_api_token = TOKEN
        form.save().execute()
        self.assertEqual(self.company.pico_api_url, self.sim.url)

    def test_secrets_are_for_settings_administrators_only(self):
        pico_manager = self.mrp_user.copy({"login": "pico-manager"})
        add_groups(pico_manager, "pico_mes.group_pico_manager")
        for user in (self.mrp_user, pico_manager):
            company = self.company.with_user(user)
            company.invalidate_recordset()
            for field in ("pico_api_token", "pico_webhook_secret"):
                with self.assertRaises(AccessError):
                    company.read([field])
            self.assertTrue(company.read(["pico_enabled", "pico_api_url"]))

    def test_another_company_sees_nothing_of_ours(self):
        other = self.env["res.company"].create({"name": "Other Plant"})
        outsider = self.mrp_user.copy(
            {
                "login": "other-plant-manager",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
            }
        )
        add_groups(outsider, "pico_mes.group_pico_manager")
        self.make_mo(self.sensor, 1)
        for model in ("pico.unit", "pico.message", "pico.operation"):
            self.assertFalse(self.env[model].with_user(outsider).search([]), model)
        self.assertTrue(self.env["pico.unit"].with_user(self.mrp_user).search([]))

    def test_done_messages_are_deleted_after_retention(self):
        production = self.make_mo(self.sensor, 1)
        self.env["pico.message"]._cron_dispatch()
        production.action_cancel()  # a pending message, kept whatever its age
        messages = self.env["pico.message"].search(
            [("production_id", "=", production.id)]
        )
        messages.write({"done_at": "2020-01-01 00:00:00"})
        self.env["pico.message"]._gc_done_messages()
        self.assertEqual(messages.exists().mapped("kind"), ["order_cancel"])

    def test_unmatched_and_failed_messages_are_deleted_after_their_retention(self):
        Message = self.env["pico.message"]

        def inbound(ref):
            event = {
                "externalOrderId": ref,
                "operation": {"id": "op-sensor-kit"},
                "orderIndex": 0,
                "at": "2026-01-01T10:00:00Z",
            }
            messages, _dup = Message._receive(self.company, parse_events(event))
            return messages

        old_unmatched, recent_unmatched = inbound("OLD/1"), inbound("RECENT/1")
        (old_unmatched | recent_unmatched)._process()
        self.assertEqual(old_unmatched.state, "unmatched")
        old_failed, recent_failed = inbound("OLD/2"), inbound("RECENT/2")
        (old_failed | recent_failed)._set_failed("a person looked, and left it")
        production = self.make_mo(self.sensor, 1)
        self.sim.set_faults(graphql_error="refused", count=1)
        self.dispatch()
        failed_out = self.messages(production)
        self.assertEqual(failed_out.state, "failed")
        old = old_unmatched | old_failed | failed_out
        old.flush_recordset()
        self.env.cr.execute(
            "UPDATE pico_message SET done_at = '2020-01-01', write_date = '2020-01-01'"
            " WHERE id = ANY(%s)",
            (old.ids,),
        )
        self.env.invalidate_all()
        self.env["ir.config_parameter"].set_param(
            "pico_mes.problem_retention_days", 180
        )
        Message._gc_done_messages()
        self.assertFalse(old_unmatched.exists() | old_failed.exists())
        self.assertEqual(
            (recent_unmatched | recent_failed).exists(),
            recent_unmatched | recent_failed,
        )
        # a failed message to PICO holds its order back until a person decides
        self.assertTrue(failed_out.exists())
        self.env["ir.config_parameter"].set_param("pico_mes.problem_retention_days", 0)
        self.env.cr.execute(
            "UPDATE pico_message SET done_at = '2020-01-01', write_date = '2020-01-01'"
            " WHERE id = ANY(%s)",
            (recent_unmatched.ids,),
        )
        Message._gc_done_messages()
        self.assertTrue(recent_unmatched.exists())

    def test_test_connection_success(self):
        action = self.settings().action_pico_test_connection()
        self.assertEqual(action["params"]["type"], "success")

    def test_test_connection_reports_a_bad_token(self):
        self.company.pico_api_token = "nope"
        action = self.settings().action_pico_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("401", action["params"]["message"])
        self.assertNotIn("nope", action["params"]["message"])

    def test_test_connection_reports_pico_down(self):
        self.sim.set_faults(drop_connection=True)
        action = self.settings().action_pico_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("unreachable", action["params"]["message"])

    def test_sync_button(self):
        action = self.settings().action_pico_sync_operations()
        self.assertEqual(action["params"]["type"], "success")

    def test_register_webhooks_replaces_and_keeps_the_secret_out_of_logs(self):
        self.company.pico_public_url = "http://odoo.example:8069"
        settings = self.settings()
        settings.action_pico_register_webhooks()
        settings.action_pico_register_webhooks()
        subscriptions = self.sim.subscriptions()
        self.assertEqual(len(subscriptions), 2)
        secret = self.company._pico_webhook_secret()
        for subscription in subscriptions:
            self.assertEqual(
                subscription["webhookUrl"], "http://odoo.example:8069/pico_mes/webhook"
            )
            self.assertEqual(
                subscription["webhookHeaders"], {"X-Pico-Webhook-Secret": secret}
            )
        messages = self.env["pico.message"].search([("kind", "=", "webhook_subscribe")])
        self.assertEqual(len(messages), 4)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        for message in messages:
            self.assertNotIn(secret, message.payload + (message.answer or ""))

    def test_rotating_the_secret_re_registers(self):
        self.settings().action_pico_register_webhooks()
        old = self.company._pico_webhook_secret()
        self.settings().action_pico_rotate_webhook_secret()
        new = self.company._pico_webhook_secret()
        self.assertNotEqual(old, new)
        headers = {
            s["webhookHeaders"]["X-Pico-Webhook-Secret"]
            for s in self.sim.subscriptions()
        }
        self.assertEqual(headers, {new})

    def test_registration_failure_is_reported_and_logged(self):
        self.sim.set_faults(http_status=500)
        action = self.settings().action_pico_register_webhooks()
        self.assertEqual(action["params"]["type"], "danger")
        failed = self.env["pico.message"].search([("kind", "=", "webhook_subscribe")])
        self.assertEqual(failed.state, "failed")

    def test_neutralize_disables_pico(self):
        self.company._pico_webhook_secret()
        self.env.flush_all()
        for query in get_neutralization_queries(["pico_mes"]):
            self.env.cr.execute(query)
        self.env.invalidate_all()
        self.assertFalse(self.company.pico_enabled)
        self.assertFalse(self.company.sudo().pico_api_token)
        self.assertFalse(self.company.sudo().pico_webhook_secret)
