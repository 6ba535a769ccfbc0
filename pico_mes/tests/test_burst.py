from unittest.mock import patch

from odoo.tests import tagged

from .. import compat
from ..models import pico_inbox
from ..services.payload import parse_events
from .common import PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestBurst(PicoTransactionCase):
    """Several completions of one MO at once are produced together, and come out
    as they do one by one: serials, component lots, stock, the MO chain."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.more_driver_lots = cls.stock_serials(cls.driver, "DRX", 12)

    def receive(self, events):
        messages, duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(events)
        )
        messages._process()
        return messages, duplicates

    def complete_lamp(self, production, index, driver_lot, serial=None):
        return self.sim.complete_unit(
            production.pico_order_ref,
            "op-desk-lamp",
            index,
            produced_serial=serial or f"LAMP-{production.pico_order_ref}-{index}",
            consumed_serials={"PICO-LED-DRIVER": driver_lot.name},
        )

    def complete_sensor(self, production, index):
        return self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", index)

    def family(self, production):
        return production_family(production).sorted("id")

    def chain(self, production):
        """The MO chain as data that does not depend on the order's name."""
        ref = production.pico_order_ref
        return [
            (
                mo.state,
                mo.product_qty,
                mo.qty_produced,
                (compat.producing_lots(mo).name or "").replace(ref, "REF"),
                sorted(
                    (u.order_index, u.state, (u.lot_id.name or "").replace(ref, "REF"))
                    for u in mo.pico_unit_ids
                ),
                sorted(
                    (ml.product_id.default_code, ml.lot_id.name or "", ml.quantity)
                    for ml in mo.move_raw_ids.move_line_ids
                    if ml.state == "done"
                ),
            )
            for mo in self.family(production)
        ]

    def done_quantities(self, production):
        """{product code: quantity} moved by the done MOs of the chain."""
        totals = {}
        moves = self.family(production).filtered(lambda p: p.state == "done")
        for move in moves.move_raw_ids | moves.move_finished_ids:
            if move.state == "done":
                code = move.product_id.default_code
                totals[code] = totals.get(code, 0) + move.quantity
        return totals

    def test_serial_burst_equals_one_by_one(self):
        one_by_one = self.make_mo(self.lamp, 5)
        burst = self.make_mo(self.lamp, 5)
        self.dispatch()
        order = (2, 0, 3)
        for n, index in enumerate(order):
            messages, _dup = self.receive(
                self.complete_lamp(one_by_one, index, self.driver_lots[n])
            )
            self.assertEqual(messages.state, "done", messages.mapped("error"))
        events = [
            self.complete_lamp(burst, index, self.more_driver_lots[n])
            for n, index in enumerate(order)
        ]
        messages, _dup = self.receive(events)
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )
        chain = self.chain(burst)
        for row in chain:  # the component serials differ by design: DRV- / DRX-
            for n, line in enumerate(row[5]):
                row[5][n] = (line[0], line[1].replace("DRX", "DRV"), line[2])
        self.assertEqual(chain, self.chain(one_by_one))
        self.assertEqual(
            [row[0] for row in chain], ["done", "done", "done", "confirmed"]
        )
        for lot in self.driver_lots[:3] | self.more_driver_lots[:3]:
            self.assertEqual(self.stock(self.driver, lot), 0, lot.name)
        for lot in compat.producing_lots(self.family(burst)):
            self.assertEqual(self.stock(self.lamp, lot), 1, lot.name)
        self.assertEqual(self.stock(self.lamp), 6)
        self.assertEqual(self.done_quantities(burst), self.done_quantities(one_by_one))
        self.assertEqual(messages.production_id, self.family(burst)[:3])

    def test_untracked_burst_from_the_cron_backlog(self):
        """One MO for the burst's units, plus the backorder: the same stock and
        the same open remainder as one MO per unit."""
        one_by_one = self.make_mo(self.sensor, 6)
        burst = self.make_mo(self.sensor, 6)
        self.dispatch()
        for index in (4, 1, 0, 2):
            messages, _dup = self.receive(self.complete_sensor(one_by_one, index))
            self.assertEqual(messages.state, "done", messages.mapped("error"))
        events = [self.complete_sensor(burst, index) for index in (4, 1, 0, 2)]
        messages, _dup = self.env["pico.message"]._receive(
            self.company, parse_events(events)
        )
        self.env["pico.message"]._cron_process_inbound()
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )
        self.assertEqual(self.done_quantities(burst), self.done_quantities(one_by_one))
        self.assertEqual(
            self.done_quantities(burst),
            {"PICO-SENSOR": 4, "PICO-SCREW": 4, "PICO-SHADE": 4},
        )
        self.assertEqual(self.stock(self.sensor), 8)
        self.assertEqual(self.stock(self.screw), 1000 - 8)
        done, left = self.chain(burst)
        self.assertEqual(done[:4], ("done", 4, 4, ""))
        self.assertEqual(left, self.chain(one_by_one)[-1])
        self.assertEqual(left[:3], ("confirmed", 2, 0))
        units = self.family(burst).pico_unit_ids
        self.assertEqual(
            sorted(units.filtered(lambda u: u.state == "done").mapped("order_index")),
            [0, 1, 2, 4],
        )
        self.assertEqual(set(messages.production_id.ids), {burst.id})

    def test_a_refused_serial_fails_alone(self):
        production = self.make_mo(self.lamp, 5)
        self.dispatch()
        self.receive(self.complete_lamp(production, 0, self.driver_lots[0]))
        events = [
            self.complete_lamp(production, 1, self.driver_lots[1]),
            # Odoo refuses: this driver is in the lamp built first
            self.complete_lamp(production, 2, self.driver_lots[0]),
            self.complete_lamp(production, 3, self.driver_lots[3]),
            # the same finished serial as unit 1: the second one is refused
            self.complete_lamp(
                production,
                4,
                self.driver_lots[4],
                serial=f"LAMP-{production.pico_order_ref}-1",
            ),
        ]
        messages, _dup = self.receive(events)  # the burst raises: one by one
        self.assertEqual(messages.mapped("state"), ["done", "failed", "done", "failed"])
        self.assertIn(self.driver_lots[0].name, messages[1].error)
        self.assertRegex(messages[3].error or "", "already (been )?produced")
        units = self.family(production).pico_unit_ids.sorted("order_index")
        self.assertEqual(
            units.mapped("state"),
            ["done", "done", "sent", "done", "sent"],
        )
        self.assertEqual(self.stock(self.lamp), 3)
        self.assertEqual(self.stock(self.driver, self.driver_lots[1]), 0)
        self.assertEqual(self.stock(self.driver, self.driver_lots[3]), 0)
        self.assertEqual(self.stock(self.driver, self.driver_lots[4]), 1)

    def test_a_duplicate_in_a_burst_changes_nothing(self):
        production = self.make_mo(self.lamp, 4)
        self.dispatch()
        events = [
            self.complete_lamp(production, index, self.driver_lots[index])
            for index in range(3)
        ]
        messages, duplicates = self.receive(
            [events[0], events[1], events[0], events[2]]
        )
        self.assertEqual((len(messages), duplicates), (3, 1))
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )
        chain = self.chain(production)
        stock = self.stock(self.lamp), self.stock(self.screw)
        messages, duplicates = self.receive(events)  # the whole burst again
        self.assertEqual((len(messages), duplicates), (0, 3))
        again = self.env["pico.message"].search(
            [
                ("order_ref", "=", production.pico_order_ref),
                ("direction", "=", "in"),
            ]
        )
        again.write({"state": "pending"})  # replayed from the log by hand
        again._process()
        self.assertEqual(set(again.mapped("state")), {"done"})
        self.assertEqual(self.chain(production), chain)
        self.assertEqual((self.stock(self.lamp), self.stock(self.screw)), stock)
        self.assertEqual(stock, (3, 1000 - 6))

    def test_lot_tracked_burst_one_mo_per_lot(self):
        self.sensor.tracking = "lot"
        one_by_one = self.make_mo(self.sensor, 5)
        burst = self.make_mo(self.sensor, 5)
        self.dispatch()
        lots = ("L1", "L1", "L2", "L2")

        def complete(production, prefix, index):
            return self.sim.complete_unit(
                production.pico_order_ref,
                "op-sensor-kit",
                index,
                produced_serial=f"{prefix}-{lots[index]}",
            )

        for index in range(4):
            messages, _dup = self.receive(complete(one_by_one, "A", index))
            self.assertEqual(messages.state, "done", messages.error)
        messages, _dup = self.receive([complete(burst, "B", i) for i in range(4)])
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )
        self.assertEqual(self.done_quantities(burst), self.done_quantities(one_by_one))
        for name in ("L1", "L2"):
            for prefix in ("A", "B"):
                lot = self.env["stock.lot"].search([("name", "=", f"{prefix}-{name}")])
                self.assertEqual(self.stock(self.sensor, lot), 2, lot.name)
        self.assertEqual(
            [row[:4] for row in self.chain(burst)],
            [("done", 2, 2, "B-L1"), ("done", 2, 2, "B-L2"), ("confirmed", 1, 0, "")],
        )
        self.assertEqual(self.chain(burst)[-1][4], self.chain(one_by_one)[-1][4])

    def test_the_cron_claims_the_rest_of_an_order(self):
        """A backlog interleaving orders beyond one claim still comes in bursts."""
        productions = [self.make_mo(self.sensor, 4) for _i in range(3)]
        self.dispatch()
        events = [
            self.complete_sensor(production, index)
            for index in range(2)
            for production in productions
        ]
        messages, _dup = self.env["pico.message"]._receive(
            self.company, parse_events(events)
        )
        with patch.object(pico_inbox, "CLAIM_LIMIT", 2):
            claimed = self.env["pico.inbox"]._claim_pending()
            self.assertEqual(claimed, messages[0:2] | messages[3:5])
            self.env["pico.message"]._cron_process_inbound()
        self.assertEqual(set(messages.mapped("state")), {"done"})
        for production in productions:
            self.assertEqual(
                [row[:3] for row in self.chain(production)],
                [("done", 2, 2), ("confirmed", 2, 0)],
            )
