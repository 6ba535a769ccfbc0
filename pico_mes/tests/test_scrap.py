from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .. import compat
from ..services.payload import parse_events
from .common import PicoCommon, PicoTransactionCase, production_family

PROCESS = "op-proc-solder"  # a PICO process: its completion starts a unit


@tagged("post_install", "-at_install")
class TestScrap(PicoTransactionCase):
    """Scrap a unit PICO started or finished: the goods come from where they are,
    or nothing is written off; its replacement keeps the quantity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # where Odoo's scraps go, as a scrap of this company chooses it
        cls.scrap_location = (
            cls.env["stock.scrap"].new({"company_id": cls.company.id}).scrap_location_id
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.shelf = cls.env["stock.location"].create(
            {"name": "Shelf 1", "location_id": cls.stock_location.id}
        )

    # ------------------------------------------------------------ helpers

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def start(self, production, index, consumed=None):
        """PICO starts unit ``index`` and reports its first process, with the
        component serials scanned there ({part number: serial})."""
        ref = production.pico_order_ref
        operation = production.pico_operation_id.pico_id
        self.sim.start_unit(ref, operation, index)
        event = self.sim.complete_wip(
            ref, operation, index, PROCESS, consumed_serials=consumed or {}
        )
        self.assertEqual(self.receive(event).state, "done")
        unit = production.pico_unit_ids.filtered(lambda u: u.order_index == index)
        self.assertEqual(unit.state, "in_progress")
        return unit

    def scrapped(self, product, lot=None):
        quants = self.env["stock.quant"]._gather(
            product, self.scrap_location, lot_id=lot, strict=bool(lot)
        )
        return sum(quants.mapped("quantity"))

    def at(self, location, product, lot=None):
        """Quantity in exactly ``location`` (no sub-location)."""
        quants = self.env["stock.quant"]._gather(
            product, location, lot_id=lot, strict=True
        )
        return sum(quants.mapped("quantity"))

    def family(self, production):
        return production_family(production)

    def scrap(self, unit, reason, replace):
        wizard = (
            self.env["pico.unit.scrap.wizard"]
            .with_context(**unit.action_pico_scrap_wizard()["context"])
            .create({"reason": reason, "replace": replace})
        )
        wizard.action_confirm()

    def transfer(self, picking_type, product, quantity, source, dest, lot=None):
        """A real transfer, validated: a delivery, an internal move."""
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    Command.create(
                        {
                            **compat.stock_move_description(product),
                            "product_id": product.id,
                            "product_uom_qty": quantity,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": dest.id,
                        }
                    )
                ],
            }
        )
        picking.action_confirm()
        picking.action_assign()
        move = picking.move_ids
        if lot:
            move.move_line_ids.unlink()
            self.env["stock.move.line"].create(
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": product.id,
                    "lot_id": lot.id,
                    "quantity": quantity,
                    "location_id": source.id,
                    "location_dest_id": dest.id,
                }
            )
        move.picked = True
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        return picking

    def count_out(self, product, location, lot=None):
        """An inventory adjustment finds none of it in ``location``."""
        quant = self.env["stock.quant"]._gather(
            product, location, lot_id=lot, strict=True
        )
        quant.inventory_quantity = 0
        quant.inventory_quantity_set = True
        quant.action_apply_inventory()
        self.assertEqual(self.at(location, product, lot), 0)

    def assert_stock_consistent(self, *products):
        """No negative quant, and every serial in one place at most."""
        quants = self.env["stock.quant"].search(
            [("product_id", "in", [p.id for p in products])]
        )
        internal = quants.filtered(lambda q: q.location_id.usage == "internal")
        self.assertFalse(
            internal.filtered(lambda q: q.quantity < 0),
            "a scrap left a negative quant",
        )
        for lot in quants.lot_id.filtered(
            lambda lot: lot.product_id.tracking == "serial"
        ):
            places = quants.filtered(
                lambda q, lot=lot: q.lot_id == lot and q.quantity > 0
            )
            self.assertLessEqual(
                len(places), 1, f"{lot.name} is in {places.location_id}"
            )

    def assert_nothing_written_off(self, production, unit, state):
        self.assertFalse(
            self.env["stock.scrap"].search([("production_id", "=", production.id)])
        )
        # no scrap move (19.0 counts out into the scrap location: its quants show
        # the count-outs too)
        self.assertFalse(self.env["stock.move"].search([("scrap_id", "!=", False)]))
        self.assertEqual(unit.state, state)
        self.assertFalse(
            self.messages(production, kind="order_cancel"), "PICO told to cancel"
        )

    # -------------------------------------------------------------- tests

    def test_started_unit_scrapped_and_replaced(self):
        """The started unit's components are the serials PICO reported for it;
        PICO's late completion of it changes nothing and links no serial."""
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        ref = production.pico_order_ref
        reported = self.driver_lots[4]
        driver_move = production.move_raw_ids.filtered(
            lambda m: m.product_id == self.driver
        )
        self.assertNotIn(reported, driver_move.move_line_ids.lot_id)  # not reserved
        unit = self.start(production, 0, {"PICO-LED-DRIVER": reported.name})
        self.scrap(unit, "cracked housing", replace=True)

        self.assertEqual(unit.state, "scrapped")
        self.assertEqual(unit.scrap_reason, "cracked housing")
        self.assertEqual(unit.replacement_id.order_index, 2)
        self.assertEqual(unit.replacement_id.production_id, production)
        self.assertEqual(production.product_qty, 2)
        self.assertEqual(production.scrap_ids, unit.scrap_ids)
        self.assertEqual(
            sorted(unit.scrap_ids.mapped(lambda s: (s.product_id.name, s.scrap_qty))),
            [("LED Driver", 1), ("Screw", 2), ("Shade", 1)],
        )
        scrapped_lot = unit.scrap_ids.lot_id
        self.assertEqual(scrapped_lot, reported)
        self.assertEqual(self.scrapped(self.driver, scrapped_lot), 1)
        self.assertEqual(self.stock(self.driver, scrapped_lot), 0)
        self.assertEqual(self.scrapped(self.screw), 2)
        self.assertEqual(self.scrapped(self.shade), 1)
        self.assert_stock_consistent(self.driver, self.screw, self.shade)

        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "started"), (1, "open"), (2, "open")]
        )
        drivers = self.driver_lots - scrapped_lot
        for index, driver in ((1, drivers[0]), (2, drivers[1])):
            event = self.sim.complete_unit(
                ref,
                "op-desk-lamp",
                index,
                produced_serial=f"LAMP-{index}",
                consumed_serials={"PICO-LED-DRIVER": driver.name},
            )
            self.assertEqual(self.receive(event).state, "done")
        family = self.family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(self.stock(self.lamp), 2)
        self.assertEqual(self.stock(self.screw), 1000 - 2 - 4)
        self.assertEqual(self.stock(self.shade), 1000 - 1 - 2)

        late_event = self.sim.complete_unit(
            ref,
            "op-desk-lamp",
            0,
            produced_serial="LAMP-LATE",
            consumed_serials={"PICO-LED-DRIVER": reported.name},
        )
        late = self.receive(late_event)
        self.assertEqual(late.state, "unmatched")
        self.assertIn("cracked housing", late.error)
        self.assertNotIn("check which parts", late.error)  # the same serial
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "LAMP-LATE")]))
        self.assertFalse(unit.lot_id)
        self.assertEqual(self.stock(self.lamp), 2)
        self.assertEqual(self.stock(self.screw), 994)

        report = self.env["stock.traceability.report"]
        lines = report.with_context(
            active_id=scrapped_lot.id, model="stock.lot"
        ).get_lines()
        texts = [" ".join(str(c) for c in line["columns"]) for line in lines]
        self.assertEqual(len(lines), 1, texts)
        driver_scrap = unit.scrap_ids.filtered(lambda s: s.lot_id == scrapped_lot)
        self.assertIn(driver_scrap.name, texts[0])
        self.assertIn(f"Stock {self.scrap_location.name}", texts[0])
        for lamp_lot in compat.producing_lots(family):
            lines = report.with_context(
                active_id=lamp_lot.id, model="stock.lot"
            ).get_lines()
            self.assertEqual(len(lines), 1)
            self.assertTrue(lines[0]["unfoldable"])  # its components
            produced = self.env["stock.move.line"].search(
                [("lot_id", "=", lamp_lot.id), ("state", "=", "done")]
            )
            consumed = produced.consume_line_ids.filtered(
                lambda ml: ml.product_id == self.driver
            )
            self.assertEqual(len(consumed.lot_id), 1)
            self.assertNotEqual(consumed.lot_id, scrapped_lot)

    def test_without_reported_serials_the_reserved_ones_are_scrapped(self):
        """PICO reported no serial: the MO's reserved one goes to scrap, and a
        late completion naming another says so and changes no stock."""
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        reserved = production.move_raw_ids.filtered(
            lambda m: m.product_id == self.driver
        ).move_line_ids.lot_id
        self.assertEqual(len(reserved), 1)
        unit = self.start(production, 0)
        unit.action_pico_scrap("dropped", False)
        self.assertEqual(unit.scrap_ids.lot_id, reserved)
        self.assertEqual(self.scrapped(self.driver, reserved), 1)
        other = self.driver_lots[6]
        late = self.receive(
            self.sim.complete_unit(
                production.pico_order_ref,
                "op-desk-lamp",
                0,
                consumed_serials={"PICO-LED-DRIVER": other.name},
            )
        )
        self.assertEqual(late.state, "unmatched")
        self.assertIn(other.name, late.error)
        self.assertIn(reserved.name, late.error)
        self.assertEqual(self.stock(self.driver, other), 1)
        self.assertFalse(unit.lot_id)
        self.assert_stock_consistent(self.driver, self.lamp)

    def test_unit_pico_never_started_is_not_scrapped(self):
        production = self.make_mo(self.sensor, 2)
        units = production.pico_unit_ids.sorted("order_index")
        for dispatched in (False, True):
            if dispatched:
                self.dispatch()
            unit = units[0]
            self.assertEqual(unit.state, "sent" if dispatched else "queued")
            for attempt in (
                unit.action_pico_scrap_wizard,
                lambda u=unit: u.action_pico_scrap("dropped", True),
            ):
                with self.assertRaisesRegex(
                    UserError, "PICO has not started .* lower the quantity .* cancel"
                ):
                    attempt()
            self.assert_nothing_written_off(production, unit, unit.state)
            self.assertEqual(production.product_qty, 2)
            self.assertEqual(len(production.pico_unit_ids), 2)

    def test_finished_unit_scrapped_and_replaced_on_the_backorder(self):
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        ref = production.pico_order_ref
        self.receive(self.sim.complete_unit(ref, "op-sensor-kit", 0))
        done_unit = production.pico_unit_ids
        self.assertEqual(done_unit.state, "done")
        self.assertEqual(self.stock(self.sensor), 1)
        self.scrap(done_unit, "failed the final test", replace=True)
        self.assertEqual(self.stock(self.sensor), 0)
        self.assertEqual(self.scrapped(self.sensor), 1)
        self.assertEqual(done_unit.scrap_ids.production_id, production)
        backorder = self.family(production) - production
        self.assertEqual(backorder.product_qty, 2)
        self.assertEqual(done_unit.replacement_id.production_id, backorder)
        self.dispatch()
        for index in (1, 2):
            self.receive(self.sim.complete_unit(ref, "op-sensor-kit", index))
        self.assertEqual(set(self.family(production).mapped("state")), {"done"})
        self.assertEqual(self.stock(self.sensor), 2)

    def test_finished_serial_shipped_to_a_customer_is_not_scrapped(self):
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        self.receive(
            self.sim.complete_unit(
                production.pico_order_ref,
                "op-desk-lamp",
                0,
                produced_serial="LAMP-SHIPPED",
                consumed_serials={"PICO-LED-DRIVER": self.driver_lots[0].name},
            )
        )
        unit = production.pico_unit_ids
        self.assertEqual(unit.lot_id.name, "LAMP-SHIPPED")
        self.transfer(
            self.warehouse.out_type_id,
            self.lamp,
            1,
            self.stock_location,
            self.customers,
            lot=unit.lot_id,
        )
        with self.assertRaisesRegex(UserError, "LAMP-SHIPPED .*Customers"):
            unit.action_pico_scrap("returned broken", False)
        self.assert_nothing_written_off(production, unit, "done")
        self.assertEqual(self.at(self.customers, self.lamp, unit.lot_id), 1)
        self.assertEqual(self.stock(self.lamp), 0)
        self.assertFalse(unit.replacement_id)
        self.assert_stock_consistent(self.lamp)

    def test_finished_serial_elsewhere_in_the_warehouse_is_scrapped_there(self):
        """Moved to a shelf below the stock, or to a quality area beside it."""
        quality = self.env["stock.location"].create(
            {"name": "Quality", "location_id": self.warehouse.view_location_id.id}
        )
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        for index in (0, 1):
            self.receive(
                self.sim.complete_unit(
                    production.pico_order_ref,
                    "op-desk-lamp",
                    index,
                    produced_serial=f"LAMP-MOVED-{index}",
                    consumed_serials={"PICO-LED-DRIVER": self.driver_lots[index].name},
                )
            )
        units = self.family(production).pico_unit_ids.sorted("order_index")
        for unit, place in zip(units, (self.shelf, quality), strict=True):
            self.transfer(
                self.warehouse.int_type_id,
                self.lamp,
                1,
                self.stock_location,
                place,
                lot=unit.lot_id,
            )
            unit.action_pico_scrap("scratched", False)
            self.assertEqual(unit.scrap_ids.location_id, place)
            self.assertEqual(self.scrapped(self.lamp, unit.lot_id), 1)
            self.assertEqual(self.at(place, self.lamp, unit.lot_id), 0)
        self.assert_stock_consistent(self.lamp)

    def test_finished_unit_counted_out_is_not_scrapped(self):
        production = self.make_mo(self.sensor, 1)
        self.dispatch()
        self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
        )
        unit = production.pico_unit_ids
        self.count_out(self.sensor, self.stock_location)
        with self.assertRaisesRegex(UserError, "Sensor Kit, and WH holds less"):
            unit.action_pico_scrap("lost", False)
        self.assert_nothing_written_off(production, unit, "done")
        self.assert_stock_consistent(self.sensor)

    def test_components_in_a_sub_location_are_scrapped_there(self):
        """Screws and the reported driver were moved to a shelf by an internal
        transfer: they are scrapped from the shelf, the shade from the stock."""
        reported = self.driver_lots[4]
        internal = self.warehouse.int_type_id
        self.transfer(internal, self.screw, 1000, self.stock_location, self.shelf)
        self.transfer(
            internal, self.driver, 1, self.stock_location, self.shelf, lot=reported
        )
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        unit = self.start(production, 0, {"PICO-LED-DRIVER": reported.name})
        unit.action_pico_scrap("bent", True)
        where = {s.product_id: s.location_id for s in unit.scrap_ids}
        self.assertEqual(
            where,
            {
                self.screw: self.shelf,
                self.driver: self.shelf,
                self.shade: self.stock_location,
            },
        )
        self.assertEqual(self.at(self.shelf, self.screw), 998)
        self.assertEqual(self.at(self.shelf, self.driver, reported), 0)
        self.assertEqual(self.scrapped(self.driver, reported), 1)
        self.assertEqual(self.scrapped(self.screw), 2)
        self.assert_stock_consistent(self.screw, self.driver, self.shade)

    def test_unreserved_component_comes_from_the_source_location(self):
        """The MO could reserve no fan (none in stock at confirmation); one came
        in on a shelf since: the scrap takes it from there."""
        fan = self.make_product("PICO-FAN", "Fan", tracking="serial")
        self.sensor_bom.bom_line_ids = [Command.create({"product_id": fan.id})]
        production = self.make_mo(self.sensor, 1)
        self.dispatch()
        fan_move = production.move_raw_ids.filtered(lambda m: m.product_id == fan)
        self.assertFalse(fan_move.move_line_ids)
        lot = self.env["stock.lot"].create({"name": "FAN-1", "product_id": fan.id})
        self.env["stock.quant"]._update_available_quantity(
            fan, self.shelf, 1, lot_id=lot
        )
        unit = self.start(production, 0)
        unit.action_pico_scrap("fan rattles", True)
        fan_scrap = unit.scrap_ids.filtered(lambda s: s.product_id == fan)
        self.assertEqual((fan_scrap.lot_id, fan_scrap.location_id), (lot, self.shelf))
        self.assert_stock_consistent(fan)

    def test_component_counted_out_refuses_the_whole_scrap(self):
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        reported = self.driver_lots[2]
        unit = self.start(production, 0, {"PICO-LED-DRIVER": reported.name})
        self.count_out(self.shade, self.stock_location)
        with self.assertRaisesRegex(UserError, "Shade.*WH/Stock"):
            unit.action_pico_scrap("cracked", True)
        self.assert_nothing_written_off(production, unit, "in_progress")
        self.assertEqual(self.stock(self.driver, reported), 1)
        self.assertEqual(self.stock(self.screw), 1000)
        self.assertEqual(production.product_qty, 1)
        self.assertEqual(len(production.pico_unit_ids), 1)
        self.assert_stock_consistent(self.screw, self.driver, self.shade)

        self.count_out(self.driver, self.stock_location, reported)
        with self.assertRaisesRegex(UserError, f"{reported.name} is not in WH/Stock"):
            unit.action_pico_scrap("cracked", True)
        self.assert_nothing_written_off(production, unit, "in_progress")
        self.assert_stock_consistent(self.driver)

    def test_started_unit_without_replacement_lowers_the_quantity(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        units = production.pico_unit_ids.sorted("order_index")
        self.start(production, 0)
        units[0].action_pico_scrap("dropped", False)
        self.assertEqual(production.product_qty, 2)
        self.assertEqual(units.mapped("state"), ["scrapped", "sent", "sent"])
        self.assertEqual(self.scrapped(self.screw), 1)
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "started"), (1, "open"), (2, "open")]
        )
        for index in (1, 2):
            self.start(production, index)
        units[1].action_pico_scrap("dropped", False)
        units[2].action_pico_scrap("dropped too", False)
        self.assertEqual(production.state, "cancel")
        self.assertEqual(self.scrapped(self.screw), 3)

    def test_lot_tracked_component_is_scrapped_with_its_lot(self):
        glue = self.make_product("PICO-GLUE", "Glue", tracking="lot")
        lot = self.env["stock.lot"].create({"name": "GLUE-A", "product_id": glue.id})
        self.env["stock.quant"]._update_available_quantity(
            glue, self.stock_location, 10, lot_id=lot
        )
        self.sensor_bom.bom_line_ids = [
            (0, 0, {"product_id": glue.id, "product_qty": 2})
        ]
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        unit = self.start(production, 0)
        unit.action_pico_scrap("glue spilled", True)
        glue_scrap = unit.scrap_ids.filtered(lambda s: s.product_id == glue)
        self.assertEqual((glue_scrap.lot_id, glue_scrap.scrap_qty), (lot, 2))
        self.assertEqual(self.scrapped(glue, lot), 2)

    def test_who_and_what_may_be_scrapped(self):
        production = self.make_mo(self.sensor, 1)
        unit = production.pico_unit_ids
        with self.assertRaisesRegex(UserError, "has not started"):
            unit.action_pico_scrap("too early", True)
        self.dispatch()
        unit = self.start(production, 0)
        with self.assertRaises(UserError):
            unit.action_pico_scrap("  ", True)
        with self.assertRaises(AccessError):
            unit.with_user(self.mrp_user).action_pico_scrap("no rights", True)
        self.assertEqual(unit.state, "in_progress")


@tagged("post_install", "-at_install")
class TestScrapOverRpc(PicoCommon, HttpCase):
    """``pico.unit.action_pico_scrap(reason, replace)`` is an RPC entry point."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def test_scrap_over_json_rpc(self):
        """PICO starts the unit through its webhook; it is scrapped over JSON-RPC."""
        self.company.pico_public_url = self.base_url()
        self.company._pico_register_webhooks()
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        unit = production.pico_unit_ids.sorted("order_index")[0]
        ref = production.pico_order_ref
        self.sim.start_unit(ref, "op-sensor-kit", 0)
        self.sim.complete_wip(ref, "op-sensor-kit", 0, PROCESS)
        self.assertEqual(self.deliver(), [200])
        self.assertEqual(unit.state, "in_progress")
        self.authenticate("admin", "admin")
        result = self.make_jsonrpc_request(
            "/web/dataset/call_kw/pico.unit/action_pico_scrap",
            {
                "model": "pico.unit",
                "method": "action_pico_scrap",
                "args": [unit.ids, "dropped on the floor", True],
                "kwargs": {},
            },
        )
        self.env.invalidate_all()
        self.assertEqual(unit.state, "scrapped")
        self.assertEqual(result, unit.replacement_id.ids)
        self.assertEqual(unit.replacement_id.order_index, 2)
