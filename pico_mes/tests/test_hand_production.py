from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .. import compat
from ..services.payload import parse_events
from .common import PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestHandProduction(PicoTransactionCase):
    """What users do in Odoo to an order PICO builds: produce by hand, cancel,
    lower the quantity. Nothing is built twice and started units are never
    called cancelled."""

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def start_in_pico(self, production, index):
        """A unit started on the floor, and Odoo told so by a WIP completion."""
        ref = production.pico_order_ref
        self.sim.start_unit(ref, "op-sensor-kit", index)
        self.receive(
            self.sim.complete_wip(ref, "op-sensor-kit", index, "op-proc-solder")
        )

    def complete_in_pico(self, production, index):
        return self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", index)
        )

    def unit_states(self, production):
        units = self.env["pico.unit"].search(
            [("external_order_id", "=", production.pico_order_ref)]
        )
        return {u.order_index: u.state for u in units}

    def family(self, production):
        return production_family(production)

    def assert_note(self, production, text):
        bodies = " ".join(production.message_ids.mapped("body"))
        self.assertIn(text, bodies)

    def ordered_sensors(self, quantity, started=()):
        production = self.make_mo(self.sensor, quantity)
        self.dispatch()
        for index in started:
            self.start_in_pico(production, index)
        return production

    def produce_by_hand(self, production, quantity, backorder):
        form = Form(production)
        form.qty_producing = quantity
        production = form.save()
        action = production.button_mark_done()
        if action is not True:
            wizard = Form(
                self.env[action["res_model"]].with_context(**action["context"])
            ).save()
            if backorder:
                wizard.action_backorder()
            else:
                wizard.action_close_mo()

    # ------------------------------------------------------- hand production

    def test_produce_all_by_hand_cancels_the_units_in_pico(self):
        production = self.ordered_sensors(3, started=[0])
        production.with_user(self.mrp_user).button_mark_done()  # "Produce All"
        self.assertEqual(production.state, "done")
        self.assertEqual(
            self.unit_states(production),
            {0: "in_progress", 1: "cancelled", 2: "cancelled"},
        )
        self.assert_note(production, "already started")
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production),
            [(0, "started"), (1, "cancelled"), (2, "cancelled")],
        )
        message = self.complete_in_pico(production, 0)  # the floor finishes it
        self.assertEqual(message.state, "unmatched")
        self.assertEqual(self.stock(self.sensor), 3)
        self.assertEqual(self.stock(self.screw), 997)

    def test_produce_some_by_hand_and_backorder_the_rest(self):
        production = self.ordered_sensors(3, started=[0])
        self.produce_by_hand(production, 1, backorder=True)
        backorder = self.family(production) - production
        self.assertEqual(production.state, "done")
        # Odoo built one unit: PICO drops an unstarted one, keeps the started one
        self.assertEqual(production.pico_unit_ids.order_index, 1)
        self.assertEqual(production.pico_unit_ids.state, "cancelled")
        self.assertEqual(sorted(backorder.pico_unit_ids.mapped("order_index")), [0, 2])
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production),
            [(0, "started"), (1, "cancelled"), (2, "open")],
        )
        for index in (0, 2):
            self.assertEqual(self.complete_in_pico(production, index).state, "done")
        self.assertEqual(set(self.family(production).mapped("state")), {"done"})
        self.assertEqual(self.stock(self.sensor), 3)
        self.assertEqual(self.stock(self.screw), 997)

    def test_produce_some_by_hand_without_backorder(self):
        production = self.ordered_sensors(3, started=[2])
        self.produce_by_hand(production, 1, backorder=False)
        self.assertEqual(production.state, "done")
        self.assertEqual(
            self.unit_states(production),
            {0: "cancelled", 1: "cancelled", 2: "in_progress"},
        )
        self.assert_note(production, "already started")
        self.dispatch()
        self.assertEqual(self.complete_in_pico(production, 2).state, "unmatched")
        self.assertEqual(self.stock(self.sensor), 1)

    def test_serial_product_produced_by_hand(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        # the order's form on 18.0; 19.0 shows no serial field for a 2-unit order
        compat.set_producing_lot(
            production,
            self.env["stock.lot"].create(
                {"name": "HAND-LAMP-1", "product_id": self.lamp.id}
            ),
        )
        production.qty_producing = 1
        production.set_qty_producing()
        action = production.button_mark_done()
        Form(
            self.env[action["res_model"]].with_context(**action["context"])
        ).save().action_backorder()
        self.assertEqual(production.state, "done")
        self.assertEqual(production.pico_unit_ids.mapped("state"), ["cancelled"])
        self.dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "cancelled"), (1, "open")])
        self.assertEqual(self.stock(self.lamp), 1)

    def test_pico_completions_cancel_nothing(self):
        production = self.ordered_sensors(2)
        self.complete_in_pico(production, 0)
        self.assertEqual(self.unit_states(production), {0: "done", 1: "sent"})
        self.assertFalse(self.messages(production, kind="order_cancel"))

    # ------------------------------------------------- started units stay

    def test_cancelling_the_mo_keeps_started_units(self):
        production = self.ordered_sensors(2, started=[0])
        production.with_user(self.mrp_user).action_cancel()
        self.assertEqual(
            self.unit_states(production), {0: "in_progress", 1: "cancelled"}
        )
        self.assert_note(production, "already started")
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "started"), (1, "cancelled")]
        )
        self.assertEqual(self.complete_in_pico(production, 0).state, "unmatched")
        self.assertEqual(self.stock(self.sensor), 0)

    def test_lowering_the_quantity_keeps_started_units(self):
        production = self.ordered_sensors(3, started=[2])
        production.product_qty = 2
        self.assertEqual(
            self.unit_states(production),
            {0: "sent", 1: "cancelled", 2: "in_progress"},
        )
        with self.assertRaises(UserError):
            production.product_qty = 0.5
        production.product_qty = 1
        self.assertEqual(
            self.unit_states(production),
            {0: "cancelled", 1: "cancelled", 2: "in_progress"},
        )
        with self.assertRaisesRegex(UserError, "have not started"):
            production.product_qty = 0
