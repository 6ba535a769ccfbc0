from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .. import compat
from ..services.payload import parse_events
from .common import PicoCommon, PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestScrap(PicoTransactionCase):
    """Scrap a unit PICO started or finished; its replacement keeps the quantity."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # where Odoo's scraps go, as a scrap of this company chooses it
        cls.scrap_location = (
            cls.env["stock.scrap"].new({"company_id": cls.company.id}).scrap_location_id
        )

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def scrapped(self, product, lot=None):
        quants = self.env["stock.quant"]._gather(
            product, self.scrap_location, lot_id=lot, strict=bool(lot)
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

    def test_started_unit_scrapped_and_replaced(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        ref = production.pico_order_ref
        self.sim.start_unit(ref, "op-desk-lamp", 0)
        unit = production.pico_unit_ids.filtered(lambda u: u.order_index == 0)
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
        self.assertEqual(len(scrapped_lot), 1)
        self.assertEqual(self.scrapped(self.driver, scrapped_lot), 1)
        self.assertEqual(self.stock(self.driver, scrapped_lot), 0)
        self.assertEqual(self.scrapped(self.screw), 2)
        self.assertEqual(self.scrapped(self.shade), 1)

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

        late = self.receive(self.sim.complete_unit(ref, "op-desk-lamp", 0))
        self.assertEqual(late.state, "unmatched")
        self.assertIn("cracked housing", late.error)
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

    def test_started_unit_without_replacement_lowers_the_quantity(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        units = production.pico_unit_ids.sorted("order_index")
        units[0].action_pico_scrap("dropped", False)
        self.assertEqual(production.product_qty, 2)
        self.assertEqual(units.mapped("state"), ["scrapped", "sent", "sent"])
        self.assertEqual(self.scrapped(self.screw), 1)
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "cancelled"), (1, "open"), (2, "open")]
        )
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
        unit = production.pico_unit_ids.sorted("order_index")[0]
        unit.action_pico_scrap("glue spilled", True)
        glue_scrap = unit.scrap_ids.filtered(lambda s: s.product_id == glue)
        self.assertEqual((glue_scrap.lot_id, glue_scrap.scrap_qty), (lot, 2))
        self.assertEqual(self.scrapped(glue, lot), 2)

    def test_who_and_what_may_be_scrapped(self):
        production = self.make_mo(self.sensor, 1)
        unit = production.pico_unit_ids
        with self.assertRaisesRegex(UserError, "queued"):
            unit.action_pico_scrap("too early", True)
        self.dispatch()
        with self.assertRaises(UserError):
            unit.action_pico_scrap("  ", True)
        with self.assertRaises(AccessError):
            unit.with_user(self.mrp_user).action_pico_scrap("no rights", True)
        self.assertEqual(unit.state, "sent")


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
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        unit = production.pico_unit_ids.sorted("order_index")[0]
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
