from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .. import compat
from ..exceptions import PicoError
from .common import TOKEN, PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestOutbound(PicoTransactionCase):
    def test_confirm_orders_one_unit_per_quantity(self):
        self.sim.set_faults(latency=5.0)  # a slow PICO must not matter: nothing is sent
        productions = {qty: self.make_mo(self.sensor, qty) for qty in (1, 3, 12)}
        self.assertEqual(self.sim.stats()["graphqlRequests"], 0)
        self.sim.clear_faults()
        for qty, production in productions.items():
            self.assertEqual(production.pico_state, "queued")
            self.assertEqual(
                production.pico_order_ref,
                f"{self.company.pico_order_prefix}:{production.name}",
            )
            self.assertEqual(
                production.pico_unit_ids.mapped("order_index"), list(range(qty))
            )
            self.assertEqual(self.sim.orders(production.pico_order_ref), [])
        self.dispatch()
        for qty, production in productions.items():
            self.assertEqual(
                self.sim_orders(production), [(i, "open") for i in range(qty)]
            )
            self.assertEqual(production.pico_state, "sent")
            self.assertEqual(self.messages(production).state, "done")
        requests = self.sim.stats()["graphqlRequests"]
        self.dispatch()
        self.assertEqual(
            self.sim.stats()["graphqlRequests"], requests, "nothing left to send"
        )

    def test_the_dispatcher_is_woken_once_per_transaction(self):
        cron = self.env.ref("pico_mes.ir_cron_pico_dispatch")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        for _i in range(3):
            self.make_mo(self.sensor, 1)
        self.env.cr.precommit.run()  # what a commit runs
        new = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        self.assertEqual(len(new), 1)

    def test_replaying_a_message_changes_nothing_in_pico(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        message = self.messages(production)
        message.write({"state": "pending"})
        self.dispatch()
        self.assertEqual(message.state, "done")
        self.assertEqual(self.sim_orders(production), [(i, "open") for i in range(3)])

    def test_pico_down_then_recovers_delivers_once(self):
        self.sim.set_faults(drop_connection=True)
        with freeze_time("2026-03-02 08:00:00"):
            production = self.make_mo(self.sensor, 3)
            self.dispatch()
        message = self.messages(production)
        self.assertEqual(message.state, "pending")
        self.assertEqual(message.attempts, 1)
        self.assertIn("unreachable", message.error)
        self.assertEqual(production.pico_state, "queued")
        self.sim.clear_faults()
        with freeze_time("2026-03-02 08:00:09"):  # first back-off: 10 s
            self.dispatch()
        self.assertEqual(message.state, "pending")
        with freeze_time("2026-03-02 08:00:11"):
            self.dispatch()
        self.assertEqual(message.state, "done")
        self.assertEqual(
            self.sim_orders(production), [(0, "open"), (1, "open"), (2, "open")]
        )

    def test_retryable_failures_back_off_for_a_day_then_fail(self):
        self.sim.set_faults(http_status=503)
        start = datetime(2026, 3, 2, 8, 0, 0)
        with freeze_time(start):
            production = self.make_mo(self.sensor, 1)
            self.dispatch()
        message = self.messages(production)
        attempts_at = [start]
        while message.state == "pending" and len(attempts_at) < 100:
            with freeze_time(message.next_attempt_at):
                attempts_at.append(message.next_attempt_at)
                self.dispatch()
        delays = [b - a for a, b in zip(attempts_at, attempts_at[1:], strict=False)]
        self.assertLessEqual(max(delays), timedelta(hours=1), "capped back-off")
        self.assertEqual(message.state, "failed")
        self.assertGreaterEqual(attempts_at[-1] - start, timedelta(hours=24))
        self.assertLess(attempts_at[-1] - start, timedelta(hours=26))
        self.assertEqual(production.pico_state, "error")
        self.assertTrue(production.activity_ids)

    def test_graphql_error_fails_at_once_and_retry_recovers(self):
        self.sim.set_faults(graphql_error="operation store unavailable", count=1)
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        message = self.messages(production)
        self.assertEqual(message.state, "failed")
        self.assertEqual(production.pico_unit_ids.mapped("state"), ["failed", "failed"])
        self.assertEqual(production.pico_state, "error")
        self.assertIn("operation store unavailable", production.pico_error)
        activity = production.activity_ids
        self.assertEqual(
            activity.activity_type_id,
            self.env.ref("pico_mes.mail_activity_pico_attention"),
        )
        production.action_pico_retry()
        self.dispatch()
        self.assertEqual(message.state, "done")
        self.assertEqual(production.pico_state, "sent")
        self.assertFalse(production.activity_ids)

    def test_unknown_operation_fails_only_its_message(self):
        good = self.make_mo(self.sensor, 1)
        bad = self.make_mo(self.sensor, 1)
        bad.pico_unit_ids.operation_pico_id = "op-unknown"
        payload = self.messages(bad)._payload()
        payload["inputs"][0]["operationId"] = "op-unknown"
        self.messages(bad).payload = self.env["pico.message"]._dump(payload)
        self.dispatch()
        self.assertEqual(self.messages(good).state, "done")
        self.assertEqual(self.messages(bad).state, "failed")

    def test_many_units_share_http_requests(self):
        for _i in range(10):
            self.make_mo(self.sensor, 10)
        before = self.sim.stats()["graphqlRequests"]
        self.dispatch()
        self.assertLessEqual(self.sim.stats()["graphqlRequests"] - before, 2)

    def test_unconfigured_company_waits_without_raising(self):
        production = self.make_mo(self.sensor, 1)
        self.company.pico_api_url = False
        self.dispatch()
        message = self.messages(production)
        self.assertEqual((message.state, message.attempts), ("pending", 1))
        self.assertIn("No PICO API URL", message.error)

    def test_not_mapped_or_disabled_sends_nothing(self):
        production = self.make_mo(self.widget, 2)
        self.assertEqual(production.pico_state, "none")
        self.assertIn("No PICO operation", production.pico_note)
        self.assertFalse(self.messages(production))
        self.company.pico_enabled = False
        production = self.make_mo(self.sensor, 2)
        self.assertEqual(production.pico_state, "none")
        self.assertFalse(production.pico_note)
        self.assertFalse(self.messages(production))

    def test_archived_operation_is_not_ordered(self):
        self.op_sensor.active = False
        production = self.make_mo(self.sensor, 1)
        self.assertEqual(production.pico_state, "none")
        self.assertIn("archived in PICO", production.pico_note)
        self.assertFalse(self.messages(production))

    def test_fractional_quantity_is_refused_from_the_form(self):
        production = self.make_mo(self.sensor, 1.5, confirm=False)
        with self.assertRaisesRegex(UserError, "whole number"):
            production.with_user(self.mrp_user).action_confirm()
        self.assertEqual(production.state, "draft")

    def test_fractional_quantity_from_the_scheduler_is_flagged(self):
        production = self.make_mo(self.sensor, 1.5, confirm=False)
        production.sudo().action_confirm()
        self.assertEqual(production.state, "confirmed")
        self.assertEqual(production.pico_state, "error")
        self.assertFalse(production.pico_unit_ids)
        self.assertTrue(production.activity_ids)

    def test_cancel_sends_cancel_all(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        self.sim.start_unit(production.pico_order_ref, "op-sensor-kit", 1)
        production.action_cancel()
        self.assertEqual(production.pico_unit_ids.mapped("state"), ["cancelled"] * 3)
        self.assertEqual(production.pico_state, "cancelled")
        cancel = self.messages(production, kind="order_cancel")
        self.assertTrue(cancel._payload()["inputs"][0]["cancelAll"])
        self.dispatch()
        self.assertEqual(cancel.state, "done")
        self.assertEqual(
            self.sim_orders(production),
            [(0, "cancelled"), (1, "started"), (2, "cancelled")],
        )

    def test_cancel_before_dispatch_keeps_order(self):
        production = self.make_mo(self.sensor, 2)
        production.action_cancel()
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "cancelled"), (1, "cancelled")]
        )

    def test_cancel_waits_for_a_save_in_back_off(self):
        self.sim.set_faults(http_status=502, count=1)
        production = self.make_mo(self.sensor, 1)
        self.dispatch()
        production.action_cancel()
        self.dispatch()
        self.assertEqual(self.sim.orders(production.pico_order_ref), [])
        self.assertEqual(
            self.messages(production, kind="order_cancel").state, "pending"
        )
        self.messages(production).next_attempt_at = "2000-01-01 00:00:00"
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "cancelled")])

    def change_quantity(self, production, quantity):
        wizard = Form(
            self.env["change.production.qty"].with_context(default_mo_id=production.id)
        )
        wizard.product_qty = quantity
        wizard.save().change_prod_qty()

    def test_quantity_increase_orders_new_indexes(self):
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        self.change_quantity(production, 4)
        self.assertEqual(production.pico_unit_ids.mapped("order_index"), [0, 1, 2, 3])
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(i, "open") for i in range(4)])

    def test_quantity_decrease_cancels_highest_unstarted(self):
        production = self.make_mo(self.sensor, 4)
        self.dispatch()
        self.sim.start_unit(production.pico_order_ref, "op-sensor-kit", 3)
        self.env["pico.unit"].search(
            [("production_id", "=", production.id), ("order_index", "=", 3)]
        ).state = "in_progress"
        self.change_quantity(production, 2)
        states = dict(
            zip(
                production.pico_unit_ids.mapped("order_index"),
                production.pico_unit_ids.mapped("state"),
                strict=True,
            )
        )
        self.assertEqual(
            states, {0: "sent", 1: "cancelled", 2: "cancelled", 3: "in_progress"}
        )
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production),
            [(0, "open"), (1, "cancelled"), (2, "cancelled"), (3, "started")],
        )

    def test_split_moves_units_without_sending(self):
        production = self.make_mo(self.sensor, 5)
        self.dispatch()
        requests = self.sim.stats()["graphqlRequests"]
        wizard = Form(
            self.env["mrp.production.split"].with_context(
                default_production_id=production.id
            )
        )
        compat.split_wizard_count(wizard, 2)
        split = wizard.save()
        split.production_detailed_vals_ids[0].quantity = 2
        split.production_detailed_vals_ids[1].quantity = 3
        split.action_split()
        family = production_family(production)
        self.assertEqual(len(family), 2)
        for member in family:
            self.assertEqual(member.pico_order_ref, production.pico_order_ref)
            self.assertEqual(len(member.pico_unit_ids), int(member.product_qty))
        self.assertEqual(len(family.pico_unit_ids), 5)
        self.dispatch()
        self.assertEqual(self.sim.stats()["graphqlRequests"], requests)

    def test_manual_backorder_moves_remaining_units(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        production.qty_producing = 1
        production.set_qty_producing()
        production.move_raw_ids.picked = True
        production.with_context(
            skip_backorder=True, mo_ids_to_backorder=production.ids
        ).button_mark_done()
        backorder = production_family(production) - production
        self.assertEqual(production.state, "done")
        self.assertEqual(production.pico_unit_ids.mapped("order_index"), [0])
        self.assertEqual(backorder.pico_unit_ids.mapped("order_index"), [1, 2])
        self.assertEqual(backorder.pico_order_ref, production.pico_order_ref)

    def test_merge_cancels_sources_and_orders_the_new_mo(self):
        first = self.make_mo(self.sensor, 1)
        second = self.make_mo(self.sensor, 2)
        self.dispatch()
        action = (first | second).action_merge()
        merged = self.env["mrp.production"].browse(action["res_id"])
        self.assertEqual(first.pico_state, "cancelled")
        self.assertEqual(second.pico_state, "cancelled")
        self.assertEqual(merged.pico_unit_ids.mapped("order_index"), [0, 1, 2])
        self.dispatch()
        self.assertEqual(self.sim_orders(first), [(0, "cancelled")])
        self.assertEqual(
            self.sim_orders(merged), [(0, "open"), (1, "open"), (2, "open")]
        )

    def test_scheduler_created_orders_are_sent(self):
        route = self.env.ref("mrp.route_warehouse0_manufacture")
        route.active = True
        self.sensor.route_ids = [(6, 0, route.ids)]
        self.env["stock.warehouse.orderpoint"].create(
            {"product_id": self.sensor.id, "product_min_qty": 2, "product_max_qty": 4}
        )
        compat.run_scheduler(self.env)
        production = self.env["mrp.production"].search(
            [("product_id", "=", self.sensor.id)]
        )
        self.assertEqual(production.state, "confirmed")
        self.assertEqual(len(production.pico_unit_ids), 4)
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(i, "open") for i in range(4)])


@tagged("post_install", "-at_install")
class TestOutboundOrdering(PicoTransactionCase):
    """Issue 8, outbound: order, partial batches, request size, disabled company."""

    def test_cancel_never_overtakes_its_save_in_one_run(self):
        production = self.make_mo(self.sensor, 2)
        production.action_cancel()
        self.sim.set_faults(http_status=503, count=1)  # the save's request only
        self.dispatch()
        save = self.messages(production, kind="order_save")
        cancel = self.messages(production, kind="order_cancel")
        self.assertEqual((save.state, save.attempts), ("pending", 1))
        self.assertEqual((cancel.state, cancel.attempts), ("pending", 0))
        self.assertEqual(self.sim.orders(production.pico_order_ref), [])
        save.sudo().next_attempt_at = "2000-01-01 00:00:00"
        self.dispatch()
        self.assertEqual((save.state, cancel.state), ("done", "done"))
        self.assertEqual(
            self.sim_orders(production), [(0, "cancelled"), (1, "cancelled")]
        )

    def test_a_failed_message_holds_its_order_until_discarded(self):
        production = self.make_mo(self.sensor, 1)
        self.sim.set_faults(graphql_error="operation store unavailable", count=1)
        self.dispatch()
        save = self.messages(production, kind="order_save")
        self.assertEqual(save.state, "failed")
        production.action_cancel()
        cancel = self.messages(production, kind="order_cancel")
        self.dispatch()
        self.assertEqual(cancel.state, "pending", "waits behind the failed save")
        save.action_discard(reason="never built: cancelled in Odoo")
        self.assertEqual(save.state, "discarded")
        self.assertEqual(save.discard_reason, "never built: cancelled in Odoo")
        self.dispatch()
        self.assertEqual(cancel.state, "done")
        self.assertIn(
            "never built: cancelled in Odoo",
            " ".join(production.message_ids.mapped("body")),
        )

    def test_aliases_after_a_refused_one_are_sent_again(self):
        first = self.make_mo(self.sensor, 2)  # m0, m1
        second = self.make_mo(self.sensor, 2)  # m2, m3: never executed
        self.sim.set_faults(refuse_alias="m1", count=1)
        self.dispatch()
        self.assertEqual(self.messages(first).state, "failed")
        self.assertIn("refusal", self.messages(first).error)
        self.assertEqual(self.messages(second).state, "done")
        self.assertEqual(self.sim_orders(second), [(0, "open"), (1, "open")])
        self.assertEqual(second.pico_unit_ids.mapped("state"), ["sent", "sent"])
        self.assertEqual(first.pico_unit_ids.mapped("state"), ["failed", "failed"])

    def test_a_request_carries_at_most_50_aliases_even_for_one_mo(self):
        production = self.make_mo(self.sensor, 120)
        saves = self.messages(production, kind="order_save")
        self.assertEqual(
            sorted(len(m._payload()["inputs"]) for m in saves), [20, 50, 50]
        )
        self.assertEqual(len(saves.unit_ids), 120)
        log_before = len(self.sim.request_log)
        self.dispatch()
        sizes = [
            sum(entry["fields"].values()) for entry in self.sim.request_log[log_before:]
        ]
        self.assertEqual(sum(sizes), 120)
        self.assertLessEqual(max(sizes), 50)
        self.assertEqual(self.sim_orders(production), [(i, "open") for i in range(120)])
        self.assertEqual(set(production.pico_unit_ids.mapped("state")), {"sent"})

    def test_unticking_pico_enabled_stops_outbound(self):
        production = self.make_mo(self.sensor, 1)
        self.company.pico_enabled = False
        self.dispatch()
        message = self.messages(production)
        self.assertEqual((message.state, message.attempts), ("pending", 0))
        self.assertEqual(self.sim.stats()["graphqlRequests"], 0)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.pico_outbound_waiting_count, 1)
        self.company.pico_enabled = True
        self.dispatch()
        self.assertEqual(message.state, "done")

    def test_registration_messages_are_never_claimed(self):
        self.sim.set_faults(http_status=400)
        try:  # not assertRaises: it would roll the failed message back
            self.company._pico_register_webhooks()
            refused = False
        except PicoError:
            refused = True
        self.assertTrue(refused)
        registration = self.env["pico.message"].search(
            [("kind", "=", "webhook_subscribe")]
        )
        self.assertEqual(registration.state, "failed")
        registration.sudo().write({"state": "pending"})  # as the old retry did
        self.dispatch()
        self.assertEqual(registration.state, "pending", "left alone")
        self.assertEqual(self.sim.stats()["graphqlRequests"], 1)
        registration.sudo().write({"state": "failed"})
        self.sim.clear_faults()
        registration.action_retry()  # registers again, now, outside the queue
        self.assertEqual(registration.state, "discarded")
        self.assertEqual(len(self.sim.subscriptions()), 2)

    def test_one_companys_failed_message_never_blocks_anothers(self):
        other = self.env["res.company"].create(
            {
                "name": "Other PICO Co",
                "pico_enabled": True,
                "pico_api_url": self.sim.url,
                "pico_api_token": TOKEN,
            }
        )
        Message = self.env["pico.message"].sudo()

        def queue(company, operation):
            inputs = [{"externalOrderId": "SAME/1", "operationId": operation}]
            return Message._queue(
                [
                    {
                        "kind": "order_save",
                        "company_id": company.id,
                        "order_ref": "SAME/1",
                        "payload": Message._dump({"inputs": inputs}),
                    }
                ]
            )

        failing = queue(self.company, "op-unknown")
        self.dispatch()
        self.assertEqual(failing.state, "failed")
        theirs = queue(other, "op-sensor-kit")
        self.dispatch()
        self.assertEqual(theirs.state, "done")
