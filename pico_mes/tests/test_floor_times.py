from datetime import datetime, timedelta

from odoo import Command
from odoo.tests import tagged

from ..services.payload import parse_events
from .common import PicoTransactionCase, add_groups, make_user, production_family

T0 = datetime(2026, 3, 2, 8, 0, 0)
ASSEMBLY, TEST = "op-proc-assembly", "op-proc-test"


@tagged("post_install", "-at_install")
class TestFloorTimes(PicoTransactionCase):
    """PICO's process times on the work orders of the MO that holds each unit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        add_groups(cls.env.user, "mrp.group_mrp_routings")
        cls.add_sim_processes()
        cls.assembly_wc = cls.env["mrp.workcenter"].create(
            {"name": "Assembly Bench", "costs_hour": 60.0}
        )
        # Not the Assembly operation's work center: a log there came from the station.
        cls.station_wc = cls.env["mrp.workcenter"].create(
            {
                "name": "Assembly Cell A",
                "costs_hour": 75.0,
                "pico_station_names": "Station A, Station B",
            }
        )
        cls.test_wc = cls.env["mrp.workcenter"].create(
            {"name": "Test Bench", "costs_hour": 120.0}
        )
        cls.lamp_bom.write(
            {
                "operation_ids": [
                    Command.create(
                        {
                            "name": "Assembly",
                            "workcenter_id": cls.assembly_wc.id,
                            "time_cycle_manual": 30,
                        }
                    ),
                    Command.create(
                        {
                            "name": "test",
                            "workcenter_id": cls.test_wc.id,
                            "time_cycle_manual": 20,
                        }
                    ),
                ]
            }
        )
        cls.env["pico.operation"]._pico_sync_company(cls.company, full=True)
        cls.assembly_op, cls.test_op = cls.lamp_bom.operation_ids.sorted("id")

    @classmethod
    def add_sim_processes(cls):
        for pico_id, name in ((ASSEMBLY, "Assembly"), (TEST, "Test")):
            cls.sim.upsert_operation({"id": pico_id, "name": name})
            cls.sim.upsert_sub_operation("op-desk-lamp", pico_id)

    def setUp(self):
        super().setUp()
        self.add_sim_processes()

    # ------------------------------------------------------------ helpers

    def receive(self, event):
        messages, duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages, duplicates

    def process_times(self, index):
        """(start, minutes) of Assembly and Test for unit ``index``: all distinct."""
        start = T0 + timedelta(hours=index)
        assembly = 10 + index
        return {
            ASSEMBLY: (start, assembly),
            TEST: (start + timedelta(minutes=assembly), 4 + index),
        }

    def complete_process(self, production, index, process, **options):
        start, minutes = self.process_times(index)[process]
        options.setdefault("station", "Station A" if process == ASSEMBLY else "T-9")
        options.setdefault(
            "operator", "Mia Manufacturing" if process == ASSEMBLY else "Nobody Known"
        )
        return self.sim.complete_wip(
            production.pico_order_ref,
            "op-desk-lamp",
            index,
            process,
            started_at=start,
            at=start + timedelta(minutes=minutes),
            **options,
        )

    def complete_lamp(self, production, index):
        return self.sim.complete_unit(
            production.pico_order_ref,
            "op-desk-lamp",
            index,
            produced_serial=f"LAMP-{production.pico_order_ref}-{index}",
            consumed_serials={"PICO-LED-DRIVER": self.driver_lots[index].name},
        )

    def pico_logs(self, workorders):
        return workorders.time_ids.filtered("pico_unit_id")

    def report_operations(self, production):
        report = self.env["report.mrp.report_mo_overview"]
        return report._get_report_data(production.id)["operations"]

    # -------------------------------------------------------------- tests

    def test_catalog_sync_maps_processes(self):
        lamp_op = self.operation("op-desk-lamp")
        self.assertEqual(
            sorted(lamp_op.process_link_ids.operation_id.mapped("pico_id")),
            [ASSEMBLY, TEST],
        )
        self.assertEqual(self.assembly_op.pico_process_id.pico_id, ASSEMBLY)
        self.assertEqual(
            self.test_op.pico_process_id.pico_id, TEST
        )  # by name, any case
        self.assertTrue(self.assembly_op.pico_process_auto)
        self.assertEqual(
            self.assembly_op.pico_allowed_process_ids,
            lamp_op | lamp_op.process_link_ids.operation_id,
        )

    def test_sync_keeps_hand_made_mappings_and_flags_ambiguity(self):
        self.test_op.pico_process_id = self.operation(ASSEMBLY)
        self.assertFalse(self.test_op.pico_process_auto)
        self.assembly_op.pico_process_id = False
        self.sim.upsert_operation({"id": "op-proc-assembly-2", "name": "ASSEMBLY"})
        self.sim.upsert_sub_operation("op-desk-lamp", "op-proc-assembly-2")
        self.env["pico.operation"]._pico_sync_company(self.company, full=True)
        self.assertEqual(self.test_op.pico_process_id.pico_id, ASSEMBLY)
        self.assertFalse(self.assembly_op.pico_process_id)
        self.assertIn("2 PICO processes", self.assembly_op.pico_mapping_note)

    def test_three_units_process_by_process_then_unit_by_unit(self):
        production = self.make_mo(self.lamp, 3)
        self.assertEqual(len(production.workorder_ids), 2)
        self.dispatch()
        events = [
            self.complete_process(production, index, process)
            for index in range(3)
            for process in (ASSEMBLY, TEST)
        ]
        for event in events:
            messages, _dup = self.receive(event)
            self.assertEqual(messages.state, "done")
        # Before any unit is built, the one MO holds every unit's time.
        self.assertEqual(len(self.pico_logs(production.workorder_ids)), 6)
        self.assertEqual(set(production.workorder_ids.mapped("state")), {"progress"})
        self.assertEqual(len(production.pico_process_ids), 6)
        for index in range(3):
            self.receive(self.complete_lamp(production, index))
        family = production_family(production)
        self.assertEqual(len(family), 3)
        self.assertEqual(set(family.mapped("state")), {"done"})
        for mo in family:
            self.assert_unit_times(mo)
        # Replays: the same events again, and a message processed twice.
        for event in events:
            messages, duplicates = self.receive(event)
            self.assertEqual((len(messages), duplicates), (0, 1))
        message = self.env["pico.message"].search(
            [
                ("order_ref", "=", production.pico_order_ref),
                ("kind", "=", "completion"),
            ],
            limit=1,
        )
        message.write({"state": "pending"})
        message._process()
        self.assertEqual(len(self.pico_logs(family.workorder_ids)), 6)
        for mo in family:
            self.assert_unit_times(mo)

    def assert_unit_times(self, mo):
        """``mo`` built one unit; its work orders carry exactly that unit's times,
        and Odoo's cost analysis prices them at the work centers' rates."""
        unit = mo.pico_unit_ids
        self.assertEqual(len(unit), 1, mo.name)
        times = self.process_times(unit.order_index)
        expected_cost = 0.0
        for workorder in mo.workorder_ids:
            process = workorder.operation_id.pico_process_id.pico_id
            start, minutes = times[process]
            log = self.pico_logs(workorder)
            self.assertEqual(len(log), 1, f"{mo.name} {workorder.name}")
            self.assertEqual(log.pico_unit_id, unit)
            self.assertEqual(log.pico_serial, unit.produced_serial)
            self.assertEqual(log.date_start, start)
            self.assertEqual(log.date_end, start + timedelta(minutes=minutes))
            self.assertAlmostEqual(log.duration, minutes)
            self.assertAlmostEqual(workorder.duration, minutes)
            self.assertEqual(workorder.state, "done")
            if process == ASSEMBLY:  # the station's work center, operator known
                self.assertEqual(workorder.workcenter_id, self.assembly_wc)
                self.assertEqual(log.workcenter_id, self.station_wc)
                self.assertEqual(log.user_id, self.mrp_user)
            else:  # station unknown: the work order's own; operator kept as text
                self.assertEqual(log.workcenter_id, self.test_wc)
                self.assertFalse(log.user_id)
                self.assertEqual(log.pico_operator, "Nobody Known")
            expected_cost += minutes / 60.0 * workorder.workcenter_id.costs_hour
        operations = self.report_operations(mo)
        self.assertAlmostEqual(operations["summary"]["real_cost"], expected_cost)
        self.assertAlmostEqual(
            operations["summary"]["quantity"],
            sum(m for _s, m in times.values()) / 60.0,
        )
        self.assertEqual(
            sorted(mo.pico_process_ids.mapped("process_pico_id")), [ASSEMBLY, TEST]
        )

    def test_units_interleaved_follow_their_mo(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        self.receive(self.complete_process(production, 1, ASSEMBLY))
        self.receive(self.complete_process(production, 0, ASSEMBLY))
        self.receive(self.complete_process(production, 0, TEST))
        self.receive(self.complete_lamp(production, 0))
        backorder = production_family(production) - production
        self.assertEqual(backorder.pico_unit_ids.order_index, 1)
        # Unit 1's assembly time moved with the unit to the backorder.
        self.assertEqual(
            self.pico_logs(backorder.workorder_ids).pico_unit_id.order_index, 1
        )
        self.assertEqual(
            set(
                self.pico_logs(production.workorder_ids).pico_unit_id.mapped(
                    "order_index"
                )
            ),
            {0},
        )
        self.receive(self.complete_process(production, 1, TEST))
        self.receive(self.complete_lamp(production, 1))
        for mo in production | backorder:
            self.assertEqual(mo.state, "done")
            self.assert_unit_times(mo)

    def test_unmapped_process_keeps_expected_duration(self):
        self.test_op.pico_process_id = False
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        self.receive(self.complete_process(production, 0, ASSEMBLY))
        self.receive(self.complete_process(production, 0, TEST))
        self.receive(self.complete_lamp(production, 0))
        self.assertEqual(production.state, "done")
        test_wo = production.workorder_ids.filtered(
            lambda w: w.operation_id == self.test_op
        )
        self.assertFalse(self.pico_logs(test_wo))
        self.assertAlmostEqual(test_wo.duration, test_wo.duration_expected)
        unmapped = production.pico_process_ids.filtered(
            lambda p: p.process_pico_id == TEST
        )
        self.assertFalse(unmapped.workorder_id)
        self.assertAlmostEqual(unmapped.cycle_time, 4)
        self.assertEqual(unmapped.station, "T-9")

    def test_without_routing_times_stay_on_the_unit(self):
        self.sim.upsert_sub_operation("op-sensor-kit", ASSEMBLY)
        production = self.make_mo(self.sensor, 1)
        self.assertFalse(production.workorder_ids)
        self.dispatch()
        self.receive(
            self.sim.complete_wip(
                production.pico_order_ref, "op-sensor-kit", 0, ASSEMBLY
            )
        )
        self.receive(
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
        )
        self.assertEqual(production.state, "done")
        self.assertEqual(production.pico_unit_ids.state, "done")
        self.assertIn(ASSEMBLY, production.pico_unit_ids.wip_log)
        self.assertEqual(production.pico_process_ids.process_pico_id, ASSEMBLY)
        self.assertFalse(production.pico_process_ids.workorder_id)

    def test_revision_mismatch_warns_without_blocking(self):
        self.lamp_bom.code = "B"  # PICO's Desk Lamp is revision A
        production = self.make_mo(self.lamp, 1)
        self.assertEqual(production.state, "confirmed")
        self.assertIn("differs", production.pico_revision_warning)
        self.assertIn(
            "differs", production.message_ids.mapped("body")[0] or "", production.name
        )
        self.lamp_bom.code = "a"
        self.assertFalse(production.pico_revision_warning)

    def test_open_in_pico_link(self):
        production = self.make_mo(self.lamp, 2)
        unit = production.pico_unit_ids.sorted("order_index")[1]
        self.assertFalse(unit.pico_url)
        self.company.pico_unit_link = "https://acme.picomes.com/orders/{order}/{index}"
        unit.invalidate_recordset(["pico_url"])
        ref = production.pico_order_ref.replace("/", "%2F")
        self.assertEqual(unit.pico_url, f"https://acme.picomes.com/orders/{ref}/1")

    def test_unmapped_tracked_component_gets_an_activity(self):
        gear = self.make_product("PICO-GEAR", "Gear", tracking="serial")
        self.lamp_bom.bom_line_ids = [Command.create({"product_id": gear.id})]
        self.env["pico.operation"]._pico_auto_map(self.company)
        activity = self.lamp_bom.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.summary, "PICO: mapping needed")
        self.assertIn("Gear", activity.note)
        self.assertNotIn("LED Driver", activity.note)  # mapped by its attribute
        self.lamp_bom.bom_line_ids.filtered(
            lambda line: line.product_id == gear
        ).unlink()
        self.make_mo(self.lamp, 1)  # confirmation checks again: all mapped now
        self.assertFalse(self.lamp_bom.activity_ids)

    def test_operation_mapped_to_the_product_takes_the_unit_time(self):
        """Without sub-processes, a BoM operation may take the whole unit's time."""
        self.test_op.pico_process_id = self.op_lamp
        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        event = self.complete_lamp(production, 0)
        self.receive(event)
        self.assertEqual(production.state, "done")
        test_wo = production.workorder_ids.filtered(
            lambda w: w.operation_id == self.test_op
        )
        log = self.pico_logs(test_wo)
        self.assertEqual(log.pico_serial, f"LAMP-{production.pico_order_ref}-0")
        self.assertAlmostEqual(
            test_wo.duration, event["operationSummary"]["cycleTime"] / 60000, places=2
        )

    def test_late_process_completion_lands_on_the_mo_that_built_the_unit(self):
        production = self.make_mo(self.lamp, 2)
        self.dispatch()
        self.receive(self.complete_lamp(production, 0))
        self.receive(self.complete_process(production, 0, ASSEMBLY))
        assembly_wo = production.workorder_ids.filtered(
            lambda w: w.operation_id == self.assembly_op
        )
        self.assertEqual(assembly_wo.state, "done")
        self.assertEqual(self.pico_logs(assembly_wo).pico_unit_id.order_index, 0)
        backorder = production_family(production) - production
        self.assertFalse(self.pico_logs(backorder.workorder_ids))

    def test_stations_and_operators_map_within_the_company_only(self):
        other = self.env["res.company"].create({"name": "Other Works"})
        self.env["mrp.workcenter"].create(
            {
                "name": "Elsewhere",
                "company_id": other.id,
                "resource_calendar_id": other.resource_calendar_id.id,
                "pico_station_names": "T-9",
            }
        )
        Floor = self.env["pico.floor.time"]
        self.assertFalse(
            self.env["mrp.workcenter"]._pico_for_station(self.company, "T-9")
        )
        self.assertEqual(
            self.env["mrp.workcenter"]._pico_for_station(self.company, " station b "),
            self.station_wc,
        )
        self.assertEqual(
            Floor._user_for(self.company, "mia manufacturing"), self.mrp_user
        )
        self.mrp_user.copy({"login": "pico-mia-2", "name": "Mia Manufacturing"})
        self.assertFalse(Floor._user_for(self.company, "Mia Manufacturing"))

    def test_a_burst_times_each_unit_on_its_own_mo(self):
        """Process times and the units' completions in one body: each unit is
        built on its own MO, which carries exactly that unit's times."""
        production = self.make_mo(self.lamp, 4)
        self.dispatch()
        events = [
            self.complete_process(production, index, process)
            for index in range(3)
            for process in (ASSEMBLY, TEST)
        ]
        events += [self.complete_lamp(production, index) for index in range(3)]
        messages, _dup = self.receive(events)
        self.assertEqual(set(messages.mapped("state")), {"done"})
        family = production_family(production)
        done = family.filtered(lambda p: p.state == "done")
        self.assertEqual(len(done), 3)
        for mo in done:
            self.assert_unit_times(mo)
        self.assertFalse(self.pico_logs((family - done).workorder_ids))

    # ------------------------------------------------- Odoo's planning

    def build_three_lamps(self):
        """Three lamps timed by PICO; the Test time of the last unit comes after
        the unit was built (a delivery PICO retried): Odoo has closed its MO by
        then. Returns the three MOs, by unit index."""
        production = self.make_mo(self.lamp, 3)
        self.dispatch()
        for index in range(3):
            self.receive(self.complete_process(production, index, ASSEMBLY))
            if index < 2:
                self.receive(self.complete_process(production, index, TEST))
        for index in range(3):
            self.receive(self.complete_lamp(production, index))
        self.receive(self.complete_process(production, 2, TEST))
        family = production_family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        return family.sorted(lambda mo: mo.pico_unit_ids.order_index)

    def test_tracked_time_mode_plans_with_picos_times(self):
        """``Compute based on tracked time``: the operation's duration is the mean
        of PICO's times on its last work orders, and new orders are planned so."""
        self.assembly_op.action_pico_follow_times()
        self.test_op.time_mode = "auto"
        self.assertEqual(self.assembly_op.time_mode, "auto")
        mos = self.build_three_lamps()
        assembly = [self.process_times(i)[ASSEMBLY][1] for i in range(3)]
        test = [self.process_times(i)[TEST][1] for i in range(3)]
        for mo, assembly_minutes, test_minutes in zip(mos, assembly, test, strict=True):
            durations = {wo.operation_id: wo.duration for wo in mo.workorder_ids}
            self.assertAlmostEqual(durations[self.assembly_op], assembly_minutes)
            self.assertAlmostEqual(durations[self.test_op], test_minutes)
        (self.assembly_op | self.test_op).invalidate_recordset(["time_cycle"])
        self.assertAlmostEqual(self.assembly_op.time_cycle, sum(assembly) / 3)
        self.assertAlmostEqual(self.test_op.time_cycle, sum(test) / 3)
        planned = self.make_mo(self.lamp, 2)
        expected = {
            wo.operation_id: wo.duration_expected for wo in planned.workorder_ids
        }
        self.assertAlmostEqual(expected[self.assembly_op], 2 * sum(assembly) / 3)
        self.assertAlmostEqual(expected[self.test_op], 2 * sum(test) / 3)

    def test_times_out_of_bounds_are_notes_and_the_unit_is_produced(self):
        """A start after the end, no start, a cycle time longer than the process
        or beyond a day: a note on the unit, never a time log; the unit is built."""
        production = self.make_mo(self.lamp, 2)
        self.dispatch()

        def process(index, name, start, minutes, **changes):
            event = self.complete_process(production, index, name)
            event["operationSummary"]["startedAt"] = start and f"{start.isoformat()}Z"
            event["at"] = f"{(T0 + timedelta(minutes=minutes)).isoformat()}Z"
            event["operationSummary"].update(changes)
            return event

        events = [
            # a start after the end, no cycle time: minus 50 minutes
            process(0, ASSEMBLY, T0 + timedelta(hours=1), 10, cycleTime=None),
            # no start time
            process(0, TEST, None, 20, cycleTime=60000),
            # a cycle time of 31 years
            process(1, ASSEMBLY, T0, 10, cycleTime=10**12),
            # a cycle time of 3 hours between a start and an end 10 minutes apart
            process(1, TEST, T0, 10, cycleTime=3 * 3600 * 1000),
        ]
        for event in events:
            messages, _dup = self.receive(event)
            self.assertEqual(messages.state, "done")
        last = self.complete_lamp(production, 1)
        last["operationSummary"]["cycleTime"] = 2 * 24 * 3600 * 1000  # two days
        last["operationSummary"]["startedAt"] = "2026-03-01T08:00:00Z"
        last["at"] = "2026-03-03T08:00:00Z"
        for event in (self.complete_lamp(production, 0), last):
            messages, _dup = self.receive(event)
            self.assertEqual(messages.state, "done")

        family = production_family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(self.stock(self.lamp), 2)
        self.assertFalse(self.pico_logs(family.workorder_ids))
        self.assertFalse(family.pico_process_ids)
        for log in family.workorder_ids.time_ids:  # Odoo's own: the expected time
            self.assertGreaterEqual(log.duration, 0)
            self.assertLessEqual(log.duration, 60)
        for mo in family:
            cost = self.report_operations(mo)["summary"]["real_cost"]
            self.assertGreaterEqual(cost, 0)
            self.assertLessEqual(cost, 100)
        unit_0, unit_1 = family.pico_unit_ids.sorted("order_index")
        notes_0 = unit_0.time_notes.splitlines()
        self.assertEqual(len(notes_0), 2, notes_0)
        self.assertIn(f"{ASSEMBLY}: PICO reported a start", notes_0[0])
        self.assertIn("after the end", notes_0[0])
        self.assertIn(f"{TEST}, done", notes_0[1])
        self.assertIn("no start time", notes_0[1])
        notes_1 = unit_1.time_notes.splitlines()
        self.assertEqual(len(notes_1), 3, notes_1)
        self.assertIn("beyond the bound", notes_1[0])
        self.assertIn("longer than from its start to its end", notes_1[1])
        self.assertIn("op-desk-lamp", notes_1[2])
        self.assertIn("beyond the bound", notes_1[2])
        self.assertEqual((unit_1.cycle_time, unit_1.started_at), (0, False))
        self.assertTrue(unit_0.cycle_time)

    def test_operator_matches_an_internal_user_by_exact_name(self):
        Floor = self.env["pico.floor.time"]
        make_user(
            self.env,
            "pico-portal-pat",
            "base.group_portal",
            name="Pat Portal",
            company_ids=[Command.set(self.company.ids)],
        )
        self.assertEqual(
            Floor._user_for(self.company, "  mia MANUFACTURING "), self.mrp_user
        )
        for operator in ("Mia%", "%", "Mia_Manufacturing", "Mia Manufacturin_"):
            self.assertFalse(Floor._user_for(self.company, operator), operator)
        self.assertFalse(Floor._user_for(self.company, "Pat Portal"))

        production = self.make_mo(self.lamp, 1)
        self.dispatch()
        self.receive(self.complete_process(production, 0, ASSEMBLY, operator="Mia%"))
        log = self.pico_logs(production.workorder_ids)
        self.assertEqual(log.pico_operator, "Mia%")
        self.assertFalse(log.user_id)
