from odoo import Command
from odoo.tests import tagged

from .. import compat
from ..services.payload import parse_events
from .common import PicoTransactionCase, add_groups, production_family


class SerialOrderCase(PicoTransactionCase):
    """Lamps (serial) with LED drivers (serial): PICO completes units; the
    serials reserved for the units left, the MOs holding them, the stock."""

    def receive(self, events):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(events)
        )
        messages._process()
        return messages

    def complete_lamp(self, production, index, driver_lot, ref=None):
        ref = ref or production.pico_order_ref
        return self.sim.complete_unit(
            ref,
            "op-desk-lamp",
            index,
            produced_serial=f"LAMP-{ref}-{index}",
            consumed_serials={"PICO-LED-DRIVER": driver_lot.name},
        )

    def produce(self, production, index, driver_lot):
        self.dispatch()  # PICO knows the order
        messages = self.receive(self.complete_lamp(production, index, driver_lot))
        self.assertEqual(messages.state, "done", messages.error)
        return messages

    def family(self, production):
        return production_family(production).sorted("id")

    def open_mo(self, production):
        return self.family(production).filtered(lambda p: p.state == "confirmed")

    def driver_move(self, production):
        return production.move_raw_ids.filtered(lambda m: m.product_id == self.driver)

    def reserved(self, production):
        """The driver serials reserved for ``production``, by name."""
        lines = self.driver_move(production).move_line_ids
        return sorted(lines.filtered(lambda ml: not ml.picked).lot_id.mapped("name"))

    def consumed(self, production):
        """{product code: quantity} consumed by a done MO."""
        return {
            move.product_id.default_code: move.quantity
            for move in production.move_raw_ids
            if move.state == "done"
        }

    def quant_reserved(self, lot):
        quants = self.env["stock.quant"].search([("lot_id", "=", lot.id)])
        return sum(quants.mapped("reserved_quantity"))

    def assert_reservations_match_quants(self, product):
        """What the quants say is reserved, per serial and location, is what
        move lines reserve."""
        quants = self.env["stock.quant"].search(
            [("product_id", "=", product.id), ("location_id.usage", "=", "internal")]
        )
        lines = self.env["stock.move.line"].search(
            [
                ("product_id", "=", product.id),
                ("state", "not in", ("done", "cancel")),
                ("picked", "=", False),
            ]
        )
        for lot, location in {(q.lot_id, q.location_id) for q in quants}:
            reserved = quants.filtered(
                lambda q, lot=lot, loc=location: (
                    q.lot_id == lot and q.location_id == loc
                )
            ).mapped("reserved_quantity")
            by_lines = lines.filtered(
                lambda ml, lot=lot, loc=location: (
                    ml.lot_id == lot and ml.location_id == loc
                )
            ).mapped("quantity_product_uom")
            self.assertEqual(sum(reserved), sum(by_lines), lot.name)


@tagged("post_install", "-at_install")
class TestReservationsFollowUnits(SerialOrderCase):
    """The serials reserved for the units left stay reserved, as they are,
    on the backorder that holds those units."""

    def test_the_backorder_keeps_the_reserved_serials_of_the_units_left(self):
        production = self.make_mo(self.lamp, 4)
        reserved = self.driver_move(production).move_line_ids
        self.assertEqual(len(reserved), 4)
        used = reserved[0]
        kept = reserved - used
        self.produce(production, 0, used.lot_id)
        backorder = self.open_mo(production)
        self.assertEqual(production.state, "done")
        self.assertEqual(backorder.product_qty, 3)
        self.assertEqual(backorder.reservation_state, "assigned")
        # the same lines, serials and locations: nothing released and reserved again
        self.assertEqual(self.driver_move(backorder).move_line_ids, kept)
        self.assertEqual(self.reserved(backorder), sorted(kept.lot_id.mapped("name")))
        self.assertEqual(self.driver_move(production).move_line_ids.lot_id, used.lot_id)
        self.assertEqual(
            self.consumed(production),
            {"PICO-LED-DRIVER": 1, "PICO-SCREW": 2, "PICO-SHADE": 1},
        )
        self.assertEqual(self.stock(self.driver, used.lot_id), 0)
        for lot in kept.lot_id:
            self.assertEqual(self.quant_reserved(lot), 1, lot.name)
        self.assert_reservations_match_quants(self.driver)

    def test_a_serial_nobody_reserved_releases_the_last_reservation(self):
        production = self.make_mo(self.lamp, 3)
        reserved = self.driver_move(production).move_line_ids.sorted("id")
        released = reserved[2].lot_id
        spare = self.stock_serials(self.driver, "FREE", 1)
        self.produce(production, 0, spare)
        backorder = self.open_mo(production)
        self.assertEqual(self.driver_move(backorder).move_line_ids, reserved[:2])
        self.assertEqual(self.quant_reserved(released), 0)
        self.assertEqual(self.stock(self.driver, spare), 0)
        self.assertEqual(self.driver_move(production).move_line_ids.lot_id, spare)
        self.assert_reservations_match_quants(self.driver)

    def test_a_serial_reserved_by_another_order_is_consumed_and_reservations_match(
        self,
    ):
        production = self.make_mo(self.lamp, 2)
        other = self.make_mo(self.lamp, 2)
        taken = self.driver_move(other).move_line_ids[:1].lot_id
        self.produce(production, 0, taken)
        self.assertEqual(self.driver_move(production).move_line_ids.lot_id, taken)
        self.assertEqual(self.stock(self.driver, taken), 0)
        self.assertNotIn(taken.name, self.reserved(other))
        self.assertEqual(len(self.reserved(other)), 2)  # it reserved another
        self.assertEqual(len(self.reserved(self.open_mo(production))), 1)
        self.assert_reservations_match_quants(self.driver)

    def test_serials_reserved_on_a_shelf_stay_reserved_there(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf 9", "location_id": self.stock_location.id}
        )
        lots = self.env["stock.lot"].create(
            [{"name": f"SHELF-{i}", "product_id": self.driver.id} for i in range(3)]
        )
        for quant in self.env["stock.quant"].search(
            [("product_id", "=", self.driver.id)]
        ):
            quant.sudo().quantity = 0  # only the shelf holds drivers now
        self.env["stock.quant"]._unlink_zero_quants()
        for lot in lots:
            self.env["stock.quant"]._update_available_quantity(
                self.driver, shelf, 1, lot_id=lot
            )
        production = self.make_mo(self.lamp, 3)
        self.assertEqual(self.driver_move(production).move_line_ids.location_id, shelf)
        self.produce(production, 0, lots[0])
        backorder = self.open_mo(production)
        self.assertEqual(
            set(self.driver_move(backorder).move_line_ids.mapped("location_id")),
            {shelf},
        )
        self.assertEqual(self.reserved(backorder), ["SHELF-1", "SHELF-2"])
        self.assert_reservations_match_quants(self.driver)

    def test_a_serial_on_a_shelf_nobody_reserved_leaves_the_shelf(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf 8", "location_id": self.stock_location.id}
        )
        lot = self.env["stock.lot"].create(
            {"name": "SHELF-FREE", "product_id": self.driver.id}
        )
        self.env["stock.quant"]._update_available_quantity(
            self.driver, shelf, 1, lot_id=lot
        )
        production = self.make_mo(self.lamp, 2)
        self.assertNotIn("SHELF-FREE", self.reserved(production))
        self.produce(production, 0, lot)
        quants = self.env["stock.quant"].search([("lot_id", "=", lot.id)])
        self.assertEqual(
            {(q.location_id.usage, q.quantity) for q in quants if q.quantity},
            {("production", 1)},
        )
        self.assertEqual(self.driver_move(production).move_line_ids.location_id, shelf)
        self.assert_reservations_match_quants(self.driver)

    def test_work_orders_consume_one_serial_and_leave_the_others_reserved(self):
        add_groups(self.env.user, "mrp.group_mrp_routings")
        workcenter = self.env["mrp.workcenter"].create({"name": "Lamp bench"})
        self.lamp_bom.operation_ids = [
            Command.create({"name": "Assembly", "workcenter_id": workcenter.id}),
            Command.create({"name": "Test", "workcenter_id": workcenter.id}),
        ]
        production = self.make_mo(self.lamp, 3)
        self.assertEqual(len(production.workorder_ids), 2)
        reserved = self.driver_move(production).move_line_ids
        self.produce(production, 0, reserved[0].lot_id)
        backorder = self.open_mo(production)
        self.assertEqual(self.consumed(production)["PICO-LED-DRIVER"], 1)
        self.assertEqual(
            self.driver_move(backorder).move_line_ids, reserved - reserved[0]
        )
        self.assertEqual(len(backorder.workorder_ids), 2)
        self.assert_reservations_match_quants(self.driver)

    def test_reserved_by_hand_the_backorder_keeps_them_too(self):
        production = self.make_mo(self.lamp, 3, confirm=False)
        production.picking_type_id.reservation_method = "manual"
        production.action_confirm()
        self.assertFalse(self.driver_move(production).move_line_ids)
        production.action_assign()
        reserved = self.driver_move(production).move_line_ids
        self.assertEqual(len(reserved), 3)
        self.produce(production, 0, reserved[0].lot_id)
        backorder = self.open_mo(production)
        self.assertEqual(
            self.driver_move(backorder).move_line_ids, reserved - reserved[0]
        )
        self.assertEqual(self.driver_move(backorder).state, "assigned")
        self.assert_reservations_match_quants(self.driver)

    def test_the_last_unit_leaves_nothing_reserved(self):
        production = self.make_mo(self.lamp, 2)
        reserved = self.driver_move(production).move_line_ids
        self.produce(production, 0, reserved[0].lot_id)
        backorder = self.open_mo(production)
        self.produce(production, 1, reserved[1].lot_id)
        self.assertEqual(backorder.state, "done")
        self.assertFalse(self.open_mo(production))
        for lot in reserved.lot_id:
            self.assertEqual(self.quant_reserved(lot), 0, lot.name)
            self.assertEqual(self.stock(self.driver, lot), 0, lot.name)
        self.assertEqual(self.stock(self.lamp), 2)

    def test_a_burst_leaves_the_other_serials_reserved_on_the_backorder(self):
        production = self.make_mo(self.lamp, 5)
        self.dispatch()
        reserved = self.driver_move(production).move_line_ids.sorted("id")
        used = sorted(reserved[:2].lot_id.mapped("name"))
        messages = self.receive(
            [
                self.complete_lamp(production, index, reserved[index].lot_id)
                for index in (0, 1)
            ]
        )
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )
        backorder = self.open_mo(production)
        self.assertEqual(backorder.product_qty, 3)
        self.assertEqual(self.driver_move(backorder).move_line_ids, reserved[2:])
        done = self.family(production).filtered(lambda p: p.state == "done")
        self.assertEqual(
            sorted(done.move_raw_ids.move_line_ids.lot_id.mapped("name")), used
        )
        self.assert_reservations_match_quants(self.driver)

    def test_a_serial_order_has_one_finished_line_for_its_units(self):
        production = self.make_mo(self.lamp, 4)
        finished = production.move_finished_ids.filtered(
            lambda m: m.product_id == self.lamp
        )
        self.assertEqual(finished.move_line_ids.mapped("quantity"), [4])
        self.company.pico_enabled = False
        odoo_only = self.make_mo(self.lamp, 4)
        finished = odoo_only.move_finished_ids.filtered(
            lambda m: m.product_id == self.lamp
        )
        self.assertEqual(finished.move_line_ids.mapped("quantity"), [1] * 4)

    def test_produced_by_hand_the_backorder_keeps_the_finished_quantity_left(self):
        """Odoo 18.0 keeps one finished line on the backorder, 19.0 one per unit:
        either way, the units left and no serial yet."""
        production = self.make_mo(self.lamp, 3)
        lot = self.env["stock.lot"].create(
            {"name": "HAND-1", "product_id": self.lamp.id}
        )
        compat.set_producing_lot(production, lot)
        production.qty_producing = 1
        production.set_qty_producing()
        production.with_context(
            skip_backorder=True, mo_ids_to_backorder=production.ids
        ).button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(self.stock(self.lamp, lot), 1)
        backorder = self.open_mo(production)
        finished = backorder.move_finished_ids.filtered(
            lambda m: m.product_id == self.lamp
        )
        self.assertEqual(sum(finished.move_line_ids.mapped("quantity")), 2)
        self.assertFalse(finished.move_line_ids.lot_id)


@tagged("post_install", "-at_install")
class TestLargeSerialOrders(SerialOrderCase):
    """A serial order above the company's units per MO is confirmed as MOs of
    at most that many units: one PICO order, its units numbered across them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.pico_serial_units_per_mo = 3
        cls.more_lots = cls.stock_serials(cls.driver, "DRM", 12)

    def test_seven_lamps_become_three_mos_of_one_pico_order(self):
        production = self.make_mo(self.lamp, 7)
        name = production.name.removesuffix("-001")
        family = self.family(production)
        self.assertEqual(
            family.mapped("name"), [f"{name}-001", f"{name}-002", f"{name}-003"]
        )
        self.assertEqual(family.mapped("product_qty"), [3, 3, 1])
        for mo in family:
            finished = mo.move_finished_ids.filtered(
                lambda m: m.product_id == self.lamp
            )
            self.assertEqual(finished.product_uom_qty, mo.product_qty, mo.name)
            self.assertEqual(
                self.driver_move(mo).product_uom_qty, mo.product_qty, mo.name
            )
        self.assertEqual(set(family.mapped("state")), {"confirmed"})
        self.assertEqual(set(family.mapped("reservation_state")), {"assigned"})
        self.assertEqual(
            set(family.mapped("pico_order_ref")),
            {self.company._pico_order_ref(name)},
        )
        self.assertEqual(
            [sorted(mo.pico_unit_ids.mapped("order_index")) for mo in family],
            [[0, 1, 2], [3, 4, 5], [6]],
        )
        self.assertEqual([len(self.reserved(mo)) for mo in family], [3, 3, 1])
        self.assertIn(f"{name}-003", production.message_ids[:1].body)
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production), [(index, "open") for index in range(7)]
        )

    def test_units_are_built_across_the_mos_named_as_odoo_names_backorders(self):
        production = self.make_mo(self.lamp, 7)
        name = production.name.removesuffix("-001")
        self.dispatch()
        second = self.family(production)[1]
        lots = self.more_lots
        self.produce(production, 3, self.driver_move(second).move_line_ids[0].lot_id)
        self.produce(
            production, 0, self.driver_move(production).move_line_ids[0].lot_id
        )
        family = self.family(production)
        self.assertEqual(
            [(mo.name, mo.state, mo.product_qty) for mo in family],
            [
                (f"{name}-001", "done", 1),
                (f"{name}-002", "done", 1),
                (f"{name}-003", "confirmed", 1),
                (f"{name}-004", "confirmed", 2),
                (f"{name}-005", "confirmed", 2),
            ],
        )
        self.assertEqual(family[3].pico_unit_ids.mapped("order_index"), [4, 5])
        self.assertEqual(family[4].pico_unit_ids.mapped("order_index"), [1, 2])
        self.produce(production, 6, lots[0])
        self.assertEqual(family[2].state, "done")
        self.assertEqual(len(self.family(production)), 5)
        ref = production.pico_order_ref
        for mo in self.family(production).filtered(lambda p: p.state == "done"):
            self.assertEqual(
                self.consumed(mo),
                {"PICO-LED-DRIVER": 1, "PICO-SCREW": 2, "PICO-SHADE": 1},
            )
            (unit,) = mo.pico_unit_ids
            self.assertEqual(
                compat.producing_lots(mo).name, f"LAMP-{ref}-{unit.order_index}"
            )
            self.assertEqual(self.stock(self.lamp, compat.producing_lots(mo)), 1)
        self.assert_reservations_match_quants(self.driver)

    def test_untracked_orders_stay_one_mo(self):
        production = self.make_mo(self.sensor, 7)
        self.assertEqual(len(self.family(production)), 1)
        self.assertEqual(production.product_qty, 7)

    def test_serial_components_make_an_order_serial_work(self):
        bom = self.make_bom(self.sensor, [(self.driver, 1)])
        bom.sequence = -1  # before the sensor's own BoM
        production = self.make_mo(self.sensor, 4)
        self.assertEqual(production.bom_id, bom)
        self.assertEqual(self.family(production).mapped("product_qty"), [3, 1])

    def test_zero_keeps_every_order_one_mo(self):
        self.company.pico_serial_units_per_mo = 0
        production = self.make_mo(self.lamp, 7)
        self.assertEqual(len(self.family(production)), 1)
        self.assertEqual(len(production.pico_unit_ids), 7)

    def test_cancelling_one_mo_cancels_its_units_only(self):
        production = self.make_mo(self.lamp, 7)
        self.dispatch()
        self.family(production)[1].action_cancel()
        self.dispatch()
        self.assertEqual(
            self.sim_orders(production),
            [(i, "cancelled" if i in (3, 4, 5) else "open") for i in range(7)],
        )

    def test_more_units_on_one_mo_continue_the_order_numbering(self):
        production = self.make_mo(self.lamp, 7)
        last = self.family(production)[2]
        self.env["change.production.qty"].create(
            {"mo_id": last.id, "product_qty": 2}
        ).change_prod_qty()
        self.assertEqual(sorted(last.pico_unit_ids.mapped("order_index")), [6, 7])


@tagged("post_install", "-at_install")
class TestMessageUnits(SerialOrderCase):
    """An order message names its units; each unit names its messages."""

    def test_units_name_the_message_that_orders_and_the_one_that_cancels_them(self):
        production = self.make_mo(self.sensor, 3)
        save = self.messages(production, kind="order_save")
        self.assertEqual(save.unit_ids, production.pico_unit_ids)
        self.assertEqual(production.pico_unit_ids.order_message_id, save)
        production.action_cancel()
        cancel = self.messages(production, kind="order_cancel")
        self.assertEqual(cancel.unit_ids, production.pico_unit_ids)
        self.assertEqual(production.pico_unit_ids.cancel_message_id, cancel)
        self.assertEqual(save.unit_ids, production.pico_unit_ids)
        Message = self.env["pico.message"]
        unit = production.pico_unit_ids[:1]
        self.assertEqual(Message.search([("unit_ids", "in", unit.ids)]), save | cancel)

    def test_links_kept_in_the_old_relation_table_move_to_the_units(self):
        production = self.make_mo(self.sensor, 2)
        units = production.pico_unit_ids
        save = self.messages(production, kind="order_save")
        units.write({"order_message_id": False})
        cr = self.env.cr
        cr.execute(
            "CREATE TABLE pico_message_pico_unit_rel"
            " (pico_message_id int, pico_unit_id int)"
        )
        cr.execute(
            "INSERT INTO pico_message_pico_unit_rel SELECT %s, unnest(%s)",
            (save.id, units.ids),
        )
        self.env.flush_all()
        self.env["pico.unit"]._init_message_links()
        self.env.invalidate_all()
        self.assertEqual(units.order_message_id, save)
        cr.execute("SELECT to_regclass('pico_message_pico_unit_rel')")
        self.assertIsNone(cr.fetchone()[0])
