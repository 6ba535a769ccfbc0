from odoo.tests import tagged

from .. import compat
from ..services.payload import parse_events
from .common import PicoTransactionCase, production_family


@tagged("post_install", "-at_install")
class TestInbound(PicoTransactionCase):
    """Completions turned into produced units: stock, serials, backorders, once."""

    def receive(self, event):
        """What the webhook does after authentication: persist, then process."""
        messages, duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages, duplicates

    def complete_lamp(self, production, index, driver_lot=None):
        driver_lot = driver_lot or self.driver_lots[index]
        return self.sim.complete_unit(
            production.pico_order_ref,
            "op-desk-lamp",
            index,
            produced_serial=f"LAMP-{production.pico_order_ref}-{index}",
            consumed_serials={"PICO-LED-DRIVER": driver_lot.name},
        )

    def family(self, production):
        return production_family(production)

    def assert_lamps_built(self, production, indexes):
        family = self.family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(len(family), 3)
        lots = compat.producing_lots(family)
        self.assertEqual(
            sorted(lots.mapped("name")),
            sorted(f"LAMP-{production.pico_order_ref}-{i}" for i in indexes),
        )
        for lot in lots:
            self.assertEqual(self.stock(self.lamp, lot), 1)
        self.assertEqual(self.stock(self.screw), 1000 - 6)
        self.assertEqual(self.stock(self.shade), 1000 - 3)
        for lot in self.driver_lots[:3]:
            self.assertEqual(self.stock(self.driver, lot), 0, lot.name)
        for lot in self.driver_lots[3:]:
            self.assertEqual(self.stock(self.driver, lot), 1, lot.name)
        self.assertEqual(set(family.pico_unit_ids.mapped("state")), {"done"})
        self.assertEqual(set(family.mapped("pico_state")), {"done"})

    def test_serial_product_unit_by_unit(self):
        production = self.make_mo(self.lamp, 3)
        self.dispatch()
        for index in range(3):
            messages, duplicates = self.receive(self.complete_lamp(production, index))
            self.assertEqual((messages.state, duplicates), ("done", 0))
        self.assert_lamps_built(production, range(3))
        unit = production.pico_unit_ids
        self.assertEqual(unit.station, "Station 1")
        self.assertTrue(unit.completed_at and unit.cycle_time)
        self.assertIn(self.driver_lots[0].name, unit.consumed_serials)
        raw_driver = production.move_raw_ids.filtered(
            lambda m: m.product_id == self.driver
        )
        self.assertEqual(raw_driver.move_line_ids.lot_id, self.driver_lots[0])

    def test_forty_nine_units_with_a_serial_component(self):
        """49 * (1/49) is not 1 in floating point: the first unit still completes."""
        production = self.make_mo(self.lamp, 49)
        self.dispatch()
        messages, _dup = self.receive(self.complete_lamp(production, 0))
        self.assertEqual(messages.state, "done", messages.error)
        self.assertEqual(production.state, "done")
        self.assertEqual(self.stock(self.lamp), 1)
        self.assertEqual(self.stock(self.driver, self.driver_lots[0]), 0)
        backorder = self.family(production) - production
        self.assertEqual(backorder.product_qty, 48)
        self.assertEqual(len(backorder.pico_unit_ids), 48)

    def test_serial_product_in_reverse_order_and_duplicated(self):
        production = self.make_mo(self.lamp, 3)
        self.dispatch()
        events = [self.complete_lamp(production, i) for i in (2, 1, 0)]
        for event in events:
            self.receive(event)
            messages, duplicates = self.receive(event)
            self.assertEqual((len(messages), duplicates), (0, 1))
        self.receive(events)  # the whole burst replayed as one list
        self.assert_lamps_built(production, range(3))

    def test_replayed_message_changes_nothing(self):
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        messages, _dup = self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
        )
        messages.write({"state": "pending"})
        messages._process()
        self.assertEqual(messages.state, "done")
        self.assertEqual(self.stock(self.sensor), 1)
        self.assertEqual(self.stock(self.screw), 999)

    def test_untracked_product(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        for index in (1, 0, 2):
            self.receive(
                self.sim.complete_unit(
                    production.pico_order_ref, "op-sensor-kit", index
                )
            )
        family = self.family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(sum(family.mapped("qty_produced")), 3)
        self.assertEqual(self.stock(self.sensor), 3)
        self.assertEqual(self.stock(self.screw), 997)
        self.assertEqual(self.stock(self.shade), 997)

    def test_completion_before_the_save_is_acknowledged(self):
        production = self.make_mo(self.sensor, 2)
        event = {
            "externalOrderId": production.pico_order_ref,
            "operation": {"id": "op-sensor-kit"},
            "orderIndex": 0,
            "at": "2026-01-01T10:00:00Z",
            "operationSummary": {"consumedSerials": []},
        }
        self.receive(event)
        self.dispatch()
        units = self.family(production).pico_unit_ids.sorted("order_index")
        self.assertEqual(units.mapped("state"), ["done", "sent"])

    def test_tracked_product_without_serial_needs_a_person(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        event = self.complete_lamp(production, 0)
        event["endState"]["producedSerial"] = None
        event["reservedSerialNumber"] = None
        messages, _dup = self.receive(event)
        self.assertEqual(messages.state, "failed")
        self.assertIn("no serial", messages.error)
        self.assertEqual(production.state, "confirmed")
        self.assertEqual(production.pico_state, "error")
        self.assertTrue(production.activity_ids)
        self.assertEqual(self.stock(self.lamp), 0)
        self.assertEqual(self.stock(self.screw), 1000)

    def test_reserved_serial_is_the_fallback(self):
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        event = self.complete_lamp(production, 0)
        event["endState"]["producedSerial"] = None
        event["reservedSerialNumber"] = "RESERVED-1"
        self.receive(event)
        self.assertEqual(compat.producing_lots(production).name, "RESERVED-1")

    def test_unknown_component_serial(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        picking_type = production.picking_type_id
        picking_type.use_create_components_lots = False
        new_driver = self.driver_lots.browse()
        event = self.complete_lamp(production, 0, driver_lot=new_driver)
        event["operationSummary"]["consumedSerials"][0]["value"] = "DRV-NEW"
        messages, _dup = self.receive(event)
        self.assertEqual(messages.state, "failed")
        self.assertIn("DRV-NEW", messages.error)
        picking_type.use_create_components_lots = True
        messages.action_retry()
        self.env["pico.message"]._cron_process_inbound()
        self.assertEqual(messages.state, "done")
        self.assertEqual(
            production.move_raw_ids.filtered(
                lambda m: m.product_id == self.driver
            ).lot_ids.name,
            "DRV-NEW",
        )

    def test_unknown_order_and_cancelled_order_are_unmatched(self):
        event = {
            "externalOrderId": "NOT/AN/ORDER",
            "operation": {"id": "op-sensor-kit"},
            "orderIndex": 0,
            "at": "2026-01-01T10:00:00Z",
            "operationSummary": {"consumedSerials": []},
        }
        messages, _dup = self.receive(event)
        self.assertEqual(messages.state, "unmatched")
        production = self.make_mo(self.sensor, 1)
        self.dispatch()
        self.sim.start_unit(production.pico_order_ref, "op-sensor-kit", 0)
        production.action_cancel()
        messages, _dup = self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
        )
        self.assertEqual(messages.state, "unmatched")
        self.assertEqual(self.stock(self.sensor), 0)
        self.assertEqual(self.stock(self.screw), 1000)

    def test_repeated_problems_of_one_order_raise_one_activity(self):
        production = self.make_mo(self.sensor, 3)
        self.dispatch()
        for index in range(3):
            self.sim.start_unit(production.pico_order_ref, "op-sensor-kit", index)
        production.action_cancel()
        for index in range(3):
            messages, _dup = self.receive(
                self.sim.complete_unit(
                    production.pico_order_ref, "op-sensor-kit", index
                )
            )
            self.assertEqual(messages.state, "unmatched")
        attention = self.env.ref("pico_mes.mail_activity_pico_attention")
        activities = production.activity_ids.filtered(
            lambda a: a.activity_type_id == attention
        )
        self.assertEqual(len(activities), 1)
        production._pico_flag_error("and a failure of the same order")
        self.assertEqual(
            production.activity_ids.filtered(lambda a: a.activity_type_id == attention),
            activities,
        )
        activities.action_done()
        production._pico_flag_error("a new problem after the task was done")
        self.assertEqual(
            len(
                production.activity_ids.filtered(
                    lambda a: a.activity_type_id == attention
                )
            ),
            1,
        )

    def test_wip_completion_has_no_stock_effect(self):
        production = self.make_mo(self.sensor, 1)
        self.dispatch()
        event = self.sim.complete_wip(
            production.pico_order_ref, "op-sensor-kit", 0, "op-proc-solder"
        )
        messages, _dup = self.receive(event)
        self.assertEqual(messages.state, "done")
        unit = production.pico_unit_ids
        self.assertEqual(unit.state, "in_progress")
        self.assertIn("op-proc-solder", unit.wip_log)
        self.assertEqual(production.pico_state, "in_progress")
        self.assertEqual(self.stock(self.sensor), 0)
        self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
        )
        late = self.sim.complete_wip(
            production.pico_order_ref, "op-sensor-kit", 0, "op-proc-solder"
        )
        late["operation"]["id"] = "op-proc-test"  # another child, delivered late
        messages, _dup = self.receive(late)
        self.assertEqual((messages.state, unit.state), ("done", "done"))
        self.assertIn("op-proc-test", unit.wip_log)
        self.assertEqual(self.stock(self.sensor), 1)

    def test_reconciliation_picks_up_missed_completions(self):
        production = self.make_mo(self.sensor, 2)
        self.dispatch()
        self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 1)
        self.env["pico.message"]._cron_reconcile()
        self.assertEqual(self.stock(self.sensor), 1)
        self.env["pico.message"]._cron_reconcile()
        self.assertEqual(
            self.stock(self.sensor), 1, "reconciling twice changes nothing"
        )

    def test_reconciliation_survives_pico_down(self):
        self.make_mo(self.sensor, 1)
        self.dispatch()
        self.sim.set_faults(drop_connection=True)
        self.env["pico.message"]._cron_reconcile()  # logs, never raises

    def test_operation_event_updates_the_catalog(self):
        operation = self.sim.upsert_operation(
            {"id": "op-sensor-kit", "name": "Sensor Kit v2", "externalRevision": "C"}
        )
        messages, _dup = self.receive({"data": {"operationsStream": operation}})
        self.assertEqual(messages.state, "done")
        self.assertEqual(self.op_sensor.name, "Sensor Kit v2")
        self.assertEqual(self.op_sensor.external_revision, "C")
