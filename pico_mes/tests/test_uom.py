from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..services.payload import parse_events
from .common import PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestUnitsOfMeasure(PicoTransactionCase):
    """Orders and components in other units of measure than the product's."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kg = cls.env.ref("uom.product_uom_kgm")
        cls.gram = cls.env.ref("uom.product_uom_gram")
        cls.dozen = cls.env.ref("uom.product_uom_dozen")
        cls.copper = cls.env["product.product"].create(
            {
                "name": "Copper Wire",
                "default_code": "PICO-CU",
                "is_storable": True,
                "tracking": "lot",
                "uom_id": cls.kg.id,
            }
        )
        cls.copper_lot, cls.other_copper_lot = cls.env["stock.lot"].create(
            [
                {"name": "CU-1", "product_id": cls.copper.id},
                {"name": "CU-0", "product_id": cls.copper.id},
            ]
        )
        for lot in (cls.other_copper_lot, cls.copper_lot):  # Odoo reserves CU-0
            cls.env["stock.quant"]._update_available_quantity(
                cls.copper, cls.stock_location, 10, lot_id=lot
            )

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def family(self, production):
        return production_family(production)

    def test_component_lot_quantity_in_the_product_uom(self):
        """500 g of a component stocked in kg consumes 0.5 kg, not 500 kg."""
        self.sensor_bom.bom_line_ids = [
            Command.create(
                {
                    "product_id": self.copper.id,
                    "product_qty": 500,
                    "product_uom_id": self.gram.id,
                }
            )
        ]
        production = self.make_mo(self.sensor, 2)
        copper_move = production.move_raw_ids.filtered(
            lambda m: m.product_id == self.copper
        )
        copper_move.manual_consumption = True  # Odoo keeps the lines we set
        self.dispatch()
        event = self.sim.complete_unit(
            production.pico_order_ref,
            "op-sensor-kit",
            0,
            consumed_serials={"PICO-CU": "CU-1"},
        )
        message = self.receive(event)
        self.assertEqual(message.state, "done", message.error)
        self.assertEqual(copper_move.move_line_ids.lot_id, self.copper_lot)
        self.assertAlmostEqual(copper_move.move_line_ids.quantity_product_uom, 0.5)
        self.assertAlmostEqual(self.stock(self.copper, self.copper_lot), 9.5)
        self.assertAlmostEqual(self.stock(self.copper, self.other_copper_lot), 10)
        self.assertEqual(self.stock(self.sensor), 1)

    def test_order_in_dozens_is_built_unit_by_unit(self):
        """1 Dozen of a product kept in Units: 12 PICO units, each one produced."""
        production = self.env["mrp.production"].create(
            {
                "product_id": self.sensor.id,
                "bom_id": self.sensor_bom.id,
                "product_qty": 1,
                "product_uom_id": self.dozen.id,
            }
        )
        production.with_user(self.mrp_user).action_confirm()
        self.assertEqual(production.product_uom_id, self.sensor.uom_id)
        self.assertEqual(production.product_qty, 12)
        self.assertEqual(len(production.pico_unit_ids), 12)
        self.assertEqual(production.move_raw_ids.mapped("product_uom_qty"), [12, 12])
        note = " ".join(production.message_ids.mapped("body"))
        self.assertIn(f"1 {self.dozen.name}", note)
        self.dispatch()
        for index in range(12):
            message = self.receive(
                self.sim.complete_unit(
                    production.pico_order_ref, "op-sensor-kit", index
                )
            )
            self.assertEqual(message.state, "done", message.error)
        family = self.family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(self.stock(self.sensor), 12)
        self.assertEqual(self.stock(self.screw), 1000 - 12)

    def test_order_in_a_uom_that_is_not_whole_units_is_refused(self):
        production = self.env["mrp.production"].create(
            {
                "product_id": self.sensor.id,
                "bom_id": self.sensor_bom.id,
                "product_qty": 0.5,
                "product_uom_id": self.dozen.id,
            }
        )
        self.assertEqual(production._pico_unit_count(), 6)
        production.product_qty = 0.3  # 3.6 units
        with self.assertRaisesRegex(UserError, "whole number of units"):
            production.with_user(self.mrp_user).action_confirm()
        self.assertEqual(production.state, "draft")

    def test_orders_pico_does_not_build_are_left_as_they_are(self):
        """No PICO operation: any quantity in any UoM, as in Odoo without PICO."""
        production = self.env["mrp.production"].create(
            {
                "product_id": self.widget.id,
                "bom_id": self.widget_bom.id,
                "product_qty": 0.3,
                "product_uom_id": self.dozen.id,
            }
        )
        production.with_user(self.mrp_user).action_confirm()
        self.assertEqual(production.state, "confirmed")
        self.assertEqual(production.product_uom_id, self.dozen)
        self.assertEqual(production.pico_state, "none")
        self.assertFalse(production.pico_error)
