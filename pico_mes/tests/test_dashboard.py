from collections import Counter
from datetime import timedelta
from statistics import median
from unittest.mock import patch

import pytz
from lxml import etree

from odoo import Command, fields
from odoo.tests import Form, HttpCase, tagged

from .. import compat
from ..models import pico_operation_time
from ..services.payload import parse_events
from .common import (
    TOKEN,
    PicoCommon,
    PicoTransactionCase,
    add_groups,
    make_user,
    production_family,
)

ASSEMBLY, TEST = "op-proc-assembly", "op-proc-test"
TZ = "America/New_York"  # the reader's; hours are grouped in it, not in UTC


@tagged("post_install", "-at_install")
class TestDashboard(PicoTransactionCase):
    """Order status at a glance, and dashboard figures that match their records."""

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        return messages

    def card(self, code):
        return self.env["pico.dashboard.card"].search([("code", "=", code)])

    def opened(self, card):
        action = card.action_open()
        return self.env[action["res_model"]].search(action["domain"])

    def test_figures_equal_the_records_they_link_to(self):
        building = self.make_mo(self.sensor, 2)
        half_built = self.make_mo(self.lamp, 2)
        broken = self.make_mo(self.lamp, 1)
        scrapped = self.make_mo(self.sensor, 1)
        self.dispatch()
        self.receive(
            self.sim.complete_wip(
                building.pico_order_ref, "op-sensor-kit", 0, "op-proc-solder"
            )
        )
        self.receive(
            self.sim.complete_unit(
                half_built.pico_order_ref,
                "op-desk-lamp",
                0,
                produced_serial="LAMP-1",
                consumed_serials={"PICO-LED-DRIVER": self.driver_lots[0].name},
            )
        )
        event = self.sim.complete_unit(broken.pico_order_ref, "op-desk-lamp", 0)
        event["endState"]["producedSerial"] = event["reservedSerialNumber"] = None
        self.assertEqual(self.receive(event).state, "failed")
        self.sim.start_unit(scrapped.pico_order_ref, "op-sensor-kit", 0)
        self.receive(
            self.sim.complete_wip(
                scrapped.pico_order_ref, "op-sensor-kit", 0, "op-proc-solder"
            )
        )
        scrapped.pico_unit_ids.action_pico_scrap("bent frame", True)
        self.dispatch()
        late = self.sim.complete_unit(scrapped.pico_order_ref, "op-sensor-kit", 0)
        self.assertEqual(self.receive(late).state, "unmatched")
        waiting = self.make_mo(self.sensor, 3)

        self.assertEqual(waiting.pico_order_status, "queued")
        self.assertEqual(waiting.pico_units_queued, 3)
        self.assertEqual(building.pico_order_status, "in_progress")
        self.assertEqual(
            (building.pico_units_in_progress, building.pico_units_sent), (1, 1)
        )
        self.assertEqual(building.pico_units_summary, "1 sent · 1 in progress")
        backorder = production_family(half_built) - half_built
        for production in half_built | backorder:  # one PICO order, same figures
            self.assertEqual(production.pico_order_status, "partly_done")
            self.assertEqual(
                (production.pico_units_done, production.pico_units_sent), (1, 1)
            )
        self.assertEqual(broken.pico_order_status, "error")
        self.assertEqual(scrapped.pico_order_status, "sent")
        self.assertEqual(scrapped.pico_state, "sent")
        self.assertEqual(
            (scrapped.pico_units_scrapped, scrapped.pico_units_sent), (1, 1)
        )

        expected = {
            "waiting": waiting,
            "in_progress": building.pico_unit_ids.filtered(
                lambda u: u.order_index == 0
            ),
            "errors": broken,
            "unmatched": self.env["pico.message"].search(
                [("direction", "=", "in"), ("state", "in", ("failed", "unmatched"))]
            ),
            "completions": half_built.pico_unit_ids.filtered(
                lambda u: u.state == "done"
            ),
        }
        self.assertEqual(len(expected["unmatched"]), 2)
        for code, records in expected.items():
            card = self.card(code)
            self.assertEqual(self.opened(card), records, code)
            self.assertEqual(card.count, len(records), code)
        self.assertEqual(self.card("errors").color, 1)

    def test_planner_without_message_rights_sees_zero_not_an_error(self):
        planner = self.mrp_user
        add_groups(planner, "pico_mes.group_pico_user")
        cards = self.env["pico.dashboard.card"].with_user(planner).search([])
        self.assertEqual(len(cards), 6)
        unmatched = cards.filtered(lambda c: c.code == "unmatched")
        self.assertEqual(unmatched.count, 0)
        self.make_mo(self.sensor, 1)
        waiting = cards.filtered(lambda c: c.code == "waiting")
        waiting.invalidate_recordset(["count"])
        self.assertEqual(waiting.count, 1)


@tagged("post_install", "-at_install")
class TestDashboardNeighbours(PicoTransactionCase):
    """Each figure among records it must not count: another company's, other
    states, other directions, completions older than the window, and units of an
    operation archived in PICO (still the floor's work)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.plant_b = cls.env["res.company"].create(
            {"name": "Second Plant", "pico_enabled": True, "pico_api_url": cls.sim.url}
        )
        cls.plant_b.sudo().pico_api_token = TOKEN
        cls.env.user.company_ids |= cls.plant_b
        cls.env["pico.operation"]._pico_sync_company(cls.plant_b, full=True)
        cls.env["mrp.bom"].with_company(cls.plant_b).create(
            {
                "product_tmpl_id": cls.sensor.product_tmpl_id.id,
                "company_id": cls.plant_b.id,
                "product_qty": 1,
                "bom_line_ids": [
                    Command.create({"product_id": p.id, "product_qty": 1})
                    for p in (cls.screw, cls.shade)
                ],
            }
        ).pico_operation_id = cls.env["pico.operation"].search(
            [("pico_id", "=", "op-sensor-kit"), ("company_id", "=", cls.plant_b.id)]
        )
        cls.planner = make_user(
            cls.env,
            "pico-planner",
            "mrp.group_mrp_user",
            "pico_mes.group_pico_manager",
            company_id=cls.company.id,
            company_ids=[Command.set((cls.company | cls.plant_b).ids)],
        )

    def receive(self, event, company=None):
        messages, _duplicates = self.env["pico.message"]._receive(
            company or self.company, parse_events(event)
        )
        messages._process()
        return messages

    def make_mo_in(self, company, product, quantity):
        form = Form(self.env["mrp.production"].with_company(company))
        form.product_id = product
        form.product_qty = quantity
        production = form.save()
        production.action_confirm()
        return production.with_env(self.env)

    def ago(self, hours):
        return fields.Datetime.now() - timedelta(hours=hours)

    def cards(self, user, companies):
        return (
            self.env["pico.dashboard.card"]
            .with_user(user)
            .with_context(allowed_company_ids=companies.ids)
            .search([])
        )

    def opened(self, card):
        action = card.action_open()
        return card.env[action["res_model"]].search(action["domain"])

    def unit(self, production, index):
        return production_family(production).pico_unit_ids.filtered(
            lambda u: u.order_index == index
        )

    def refused_order(self, company):
        """An order PICO refused to save: a failed outbound message, an error."""
        self.sim.set_faults(graphql_error="operation store unavailable", count=1)
        production = self.make_mo_in(company, self.sensor, 1)
        self.dispatch()
        self.sim.clear_faults()
        self.assertEqual(production.pico_state, "error")
        return production

    def build_company_b(self):
        """One record of company B for each figure."""
        sensor = "op-sensor-kit"
        self.refused_order(self.plant_b)
        building = self.make_mo_in(self.plant_b, self.sensor, 3)
        self.dispatch()
        ref = building.pico_order_ref
        self.receive(
            self.sim.complete_wip(ref, sensor, 0, "op-proc-solder"), self.plant_b
        )
        done = self.sim.complete_unit(ref, sensor, 1)
        self.receive(done, self.plant_b)
        done["orderIndex"] = 99  # a unit Odoo never ordered
        self.assertEqual(self.receive(done, self.plant_b).state, "unmatched")

    def build_the_floor(self):
        """Records of company A to count, and decoys around them; returns what
        each figure of company A must count, named record by record."""
        sensor, lamp = "op-sensor-kit", "op-desk-lamp"
        self.build_company_b()
        refused = self.refused_order(self.company)
        sent = self.make_mo(self.sensor, 1)  # sent, nothing started
        building = self.make_mo(self.sensor, 3)
        finished = self.make_mo(self.sensor, 3)
        yesterday = self.make_mo(self.lamp, 1)
        broken = self.make_mo(self.lamp, 1)
        cancelled = self.make_mo(self.sensor, 2)
        self.dispatch()
        cancelled.action_cancel()
        ref = building.pico_order_ref
        self.receive(self.sim.complete_wip(ref, sensor, 0, "op-proc-solder"))
        self.receive(self.sim.complete_wip(ref, sensor, 1, "op-proc-solder"))
        self.receive(self.sim.complete_unit(ref, sensor, 1))  # in progress, then done
        ref = finished.pico_order_ref
        first = self.sim.complete_unit(ref, sensor, 0, at=self.ago(2))
        self.receive(first)
        self.receive(self.sim.complete_unit(ref, sensor, 1, at=self.ago(23)))
        self.receive(first)  # a replay
        scrapped_after_done = self.unit(finished, 1)
        scrapped_after_done.action_pico_scrap("failed the final test", False)
        self.receive(
            self.sim.complete_unit(
                yesterday.pico_order_ref,
                lamp,
                0,
                produced_serial="LAMP-OLD",
                consumed_serials={"PICO-LED-DRIVER": self.driver_lots[0].name},
                at=self.ago(25),
            )
        )
        event = self.sim.complete_unit(broken.pico_order_ref, lamp, 0)
        event["endState"]["producedSerial"] = event["reservedSerialNumber"] = None
        failed = self.receive(event)
        self.assertEqual(failed.state, "failed")
        waiting = self.make_mo(self.sensor, 2)
        self.make_mo_in(self.plant_b, self.sensor, 1)  # waiting in company B
        self.op_sensor.active = False  # archived in PICO: its units are still work
        self.assertEqual(
            (cancelled.pico_state, sent.pico_state, yesterday.state),
            ("cancelled", "sent", "done"),
        )
        self.assertEqual(scrapped_after_done.state, "scrapped")
        return {
            "waiting": waiting,
            "in_progress": self.unit(building, 0),
            "errors": broken | refused,
            "unmatched": failed,
            "completions": self.unit(finished, 0)
            | scrapped_after_done
            | self.unit(building, 1),
            "process_times": self.env["pico.operation.time"],  # no routing here
        }

    def test_figures_leave_out_neighbours_other_states_and_old_completions(self):
        expected = self.build_the_floor()
        for code, records in expected.items():
            self.assertTrue(records or code == "process_times", code)
        for card in self.cards(self.planner, self.company):
            opened = self.opened(card)
            self.assertEqual(
                sorted(opened.ids), sorted(expected[card.code].ids), card.code
            )
            self.assertEqual(card.count, len(expected[card.code]), card.code)
        both = self.cards(self.planner, self.company | self.plant_b)
        for card in both:  # company B adds one record to each figure
            added = 0 if card.code == "process_times" else 1
            self.assertEqual(card.count, len(expected[card.code]) + added, card.code)


class DashboardFloor:
    """A day on the floor: lamps built in two timed processes over the day,
    sensor kits, units on the floor; the lamp's BoM expects 12 and 20 minutes."""

    @classmethod
    def setup_floor(cls):
        add_groups(cls.env.user, "mrp.group_mrp_routings")
        cls.add_sim_processes()
        cls.bench = cls.env["mrp.workcenter"].create(
            {"name": "Bench", "pico_station_names": "Station A, Station B"}
        )
        cls.lamp_bom.operation_ids = [
            Command.create(
                {
                    "name": name,
                    "workcenter_id": cls.bench.id,
                    "time_cycle_manual": minutes,
                }
            )
            for name, minutes in (("Assembly", 12), ("Test", 20))
        ]
        cls.env["pico.operation"]._pico_sync_company(cls.company, full=True)
        cls.assembly_op, cls.test_op = cls.lamp_bom.operation_ids.sorted("id")

    @classmethod
    def add_sim_processes(cls):
        for pico_id, name in ((ASSEMBLY, "Assembly"), (TEST, "Test")):
            cls.sim.upsert_operation({"id": pico_id, "name": name})
            cls.sim.upsert_sub_operation("op-desk-lamp", pico_id)

    def start_the_day(self):
        self.add_sim_processes()
        self.now = fields.Datetime.now().replace(microsecond=0)

    def receive(self, event):
        messages, _duplicates = self.env["pico.message"]._receive(
            self.company, parse_events(event)
        )
        messages._process()
        self.assertEqual(
            set(messages.mapped("state")), {"done"}, messages.mapped("error")
        )

    def card(self, code, user=None):
        cards = self.env["pico.dashboard.card"].with_user(user or self.env.user)
        return cards.search([("code", "=", code)])

    def lamp_times(self, index, end):
        """Assembly then Test of lamp ``index``, ending at ``end``: 11+i and 5+i min."""
        test_start = end - timedelta(minutes=5 + index)
        return {
            ASSEMBLY: (test_start - timedelta(minutes=11 + index), test_start),
            TEST: (test_start, end),
        }

    def build_lamps(self, production, ends):
        """Lamps 0.. built at ``ends``, each process at its station."""
        ref = production.pico_order_ref
        for index, end in enumerate(ends):
            for process, station in ((ASSEMBLY, "Station A"), (TEST, "Station B")):
                started, at = self.lamp_times(index, end)[process]
                self.receive(
                    self.sim.complete_wip(
                        ref, "op-desk-lamp", index, process,
                        started_at=started, at=at, station=station,
                    )
                )  # fmt: skip
            self.receive(
                self.sim.complete_unit(
                    ref,
                    "op-desk-lamp",
                    index,
                    produced_serial=f"LAMP-{index}",
                    consumed_serials={"PICO-LED-DRIVER": self.driver_lots[index].name},
                    at=end,
                    started_at=self.lamp_times(index, end)[ASSEMBLY][0],
                )
            )

    def build_the_floor(self):
        """Six lamps built over the day, two sensor kits this hour and one the day
        before, three units on the floor (two at Station A, one soldering)."""
        lamps = self.make_mo(self.lamp, 8)
        sensors = self.make_mo(self.sensor, 4)
        self.dispatch()
        hours = (1, 1, 3, 7, 20, 23)
        self.build_lamps(lamps, [self.now - timedelta(hours=h) for h in hours])
        ref = sensors.pico_order_ref
        for index, at in enumerate(
            (self.now, self.now, self.now - timedelta(hours=30))
        ):
            self.receive(self.sim.complete_unit(ref, "op-sensor-kit", index, at=at))
        for index in (6, 7):
            self.receive(
                self.sim.complete_wip(
                    lamps.pico_order_ref, "op-desk-lamp", index, ASSEMBLY,
                    started_at=self.now - timedelta(minutes=14), at=self.now,
                    station="Station A",
                )
            )  # fmt: skip
        self.receive(
            self.sim.complete_wip(
                ref, "op-sensor-kit", 3, "op-proc-solder", station="Solder 1"
            )
        )
        return hours


@tagged("post_install", "-at_install")
class TestDashboardPictures(DashboardFloor, PicoTransactionCase):
    """Each picture groups exactly the records it opens: completions per hour and
    product, units in progress by station, PICO's median time per BoM operation
    against Odoo's expected time."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_floor()
        cls.planner = make_user(
            cls.env, "pico-planner", "mrp.group_mrp_user", "pico_mes.group_pico_user"
        )

    def setUp(self):
        super().setUp()
        self.start_the_day()

    def grouped(self, card, groupby):
        """The groups the card's picture draws, as its view reads them."""
        picture = card.picture
        Model = card.env[picture["res_model"]].with_context(**picture["context"])
        return Model._read_group(picture["domain"], groupby, ["__count"])

    def picture_groupbys(self, code):
        """The fields the card's picture view groups by, as the graph does."""
        view = self.env["ir.ui.view"].browse(self.card(code).picture["view_id"])
        arch = etree.fromstring(view.arch)
        return [
            f"{f.get('name')}:{f.get('interval')}"
            if f.get("interval")
            else f.get("name")
            for f in arch.iter("field")
        ]

    def test_completions_per_hour_and_product_equal_the_records(self):
        hours = self.build_the_floor()
        card = self.card("completions").with_context(tz=TZ)
        self.assertEqual(
            self.picture_groupbys("completions"), ["completed_hour", "product_id"]
        )
        picture = card.picture
        expected = Counter((self.hour(h), self.lamp) for h in hours)
        expected[(self.hour(0), self.sensor)] += 2
        groups = self.grouped(card, ["completed_hour", "product_id"])
        drawn = {(hour, product): count for hour, product, count in groups}
        self.assertEqual(drawn, dict(expected))
        labels = [hour for hour, _p, _c in groups]
        self.assertEqual(labels, sorted(labels), "in the order of the day")
        Unit = self.env["pico.unit"].with_context(tz=TZ)
        for hour, product, count in groups:  # a bar opens its records
            bar = [("completed_hour", "=", hour), ("product_id", "=", product.id)]
            opened = Unit.search(picture["domain"] + bar)
            self.assertEqual(len(opened), count)
            self.assertEqual(set(opened.mapped("completed_hour")), {hour})
        self.assertEqual(card.count, sum(expected.values()))
        self.assertEqual(card.count, 8)

    def hour(self, hours_ago):
        """The label of the hour ``hours_ago`` before now, in TZ."""
        moment = pytz.utc.localize(self.now - timedelta(hours=hours_ago))
        return moment.astimezone(pytz.timezone(TZ)).strftime("%Y-%m-%d %H:00")

    def test_units_in_progress_by_station_equal_the_records(self):
        self.build_the_floor()
        card = self.card("in_progress")
        self.assertEqual(
            self.picture_groupbys("in_progress"), ["station", "product_id"]
        )
        groups = self.grouped(card, ["station", "product_id"])
        self.assertEqual(
            {(station, product): count for station, product, count in groups},
            {("Station A", self.lamp): 2, ("Solder 1", self.sensor): 1},
        )
        opened = self.env["pico.unit"].search(card.action_open()["domain"])
        self.assertEqual(
            sorted(opened.mapped(lambda u: (u.station, u.product_id.name))),
            [
                ("Solder 1", "Sensor Kit"),
                ("Station A", "Desk Lamp"),
                ("Station A", "Desk Lamp"),
            ],
        )
        self.assertEqual(card.count, 3)

    def test_median_against_expected_time_per_operation(self):
        self.build_the_floor()
        card = self.card("process_times")
        picture = card.picture
        self.assertEqual(picture["view_type"], "pivot")
        rows = self.env["pico.operation.time"].search(picture["domain"])
        self.assertEqual(rows.operation_id, self.assembly_op | self.test_op)
        for row in rows:
            action = row.action_view_pico_times()
            times = self.env["pico.unit.process"].search(action["domain"])
            expected = 8 if row.operation_id == self.assembly_op else 6
            self.assertEqual(len(times), expected, row.operation_id.name)
            self.assertEqual(row.time_count, len(times))
            self.assertAlmostEqual(row.median_time, median(times.mapped("cycle_time")))
            self.assertAlmostEqual(row.expected_time, row.operation_id.time_cycle)
            # The cycle-time pivot shows the same median for the operation.
            (group,) = self.env["pico.unit.process"]._read_group(
                action["domain"], ["bom_operation_id"], ["cycle_time:median"]
            )
            self.assertAlmostEqual(group[1], row.median_time)
        assembly = rows.filtered(lambda r: r.operation_id == self.assembly_op)
        test = rows - assembly
        self.assertAlmostEqual(assembly.median_time, 14)  # 11..16, 14 and 14 min
        self.assertAlmostEqual(test.median_time, 5 + 2.5)
        self.assertAlmostEqual(test.variance, 100 * (7.5 - 20) / 20)
        self.assertEqual((assembly.flagged, test.flagged), (False, True))
        self.assertEqual(card.count, 1)
        self.assertEqual(
            self.env["pico.operation.time"].search(card.action_open()["domain"]), test
        )
        # The BoM says so, in its operations and in a warning.
        self.assertEqual(
            (self.assembly_op.pico_median_time, self.test_op.pico_time_flagged),
            (14, True),
        )
        self.assertIn(
            "Test: Odoo expects 20.0 min, PICO's median is 7.5 min",
            self.lamp_bom.pico_time_warning,
        )
        self.assertNotIn("Assembly", self.lamp_bom.pico_time_warning)
        # Computed on tracked time, the duration follows PICO: nothing to flag.
        self.test_op.action_pico_follow_times()
        self.env.invalidate_all()
        self.assertFalse(self.lamp_bom.pico_time_warning)
        self.assertAlmostEqual(test.expected_time, self.test_op.time_cycle)
        self.assertEqual(card.count, 0)

    def test_operations_being_edited_show_their_times(self):
        """In a form, a new operation has no PICO time; an edited one keeps its."""
        self.build_the_floor()
        Operation = self.env["mrp.routing.workcenter"]
        edited = Operation.new({"name": "Test again"}, origin=self.test_op)
        new = Operation.new({"name": "Packing", "bom_id": self.lamp_bom.id})
        self.assertEqual((edited.pico_time_count, edited.pico_median_time), (6, 7.5))
        self.assertEqual((new.pico_time_count, new.pico_time_flagged), (0, False))

    def test_the_median_is_over_the_newest_times(self):
        self.build_the_floor()
        with patch.object(pico_operation_time, "MEDIAN_TIMES", 3):
            row = self.env["pico.operation.time"].search(
                [("operation_id", "=", self.test_op.id)]
            )
            action = self.test_op.action_view_pico_times()
            times = self.env["pico.unit.process"].search(action["domain"])
            # The lamps built an hour ago (Test: 5 and 6 min) and 3 hours ago (7).
            self.assertEqual(sorted(times.mapped("cycle_time")), [5, 6, 7])
            self.assertEqual((row.time_count, row.median_time), (3, 6))
            self.assertEqual(self.test_op.pico_time_count, 3)

    def test_planner_sees_the_pictures(self):
        self.build_the_floor()
        for code, count in (
            ("completions", 8),
            ("in_progress", 3),
            ("process_times", 1),
        ):
            card = self.card(code, self.planner)
            self.assertEqual(card.count, count, code)
            picture = card.picture
            Model = self.env[picture["res_model"]].with_user(self.planner)
            self.assertTrue(Model.search_count(picture["domain"]), code)


@tagged("post_install", "-at_install")
class TestDashboardInTheBrowser(DashboardFloor, PicoCommon, HttpCase):
    """The dashboard's pictures, drawn by Odoo's graph and pivot views."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        cls.setup_floor()
        add_groups(cls.env.ref("base.user_admin"), "pico_mes.group_pico_manager")
        # Odoo lists the modules' static folders (parsing every manifest) on the
        # first static request; the dashboard's parallel requests doing it at
        # once meet CPython 3.11's AST parser, which is not thread-safe
        # ("SystemError: AST constructor recursion depth mismatch").
        compat.list_static_folders()

    def setUp(self):
        super().setUp()
        self.reset_simulator()
        self.start_the_day()

    def test_pictures_draw_what_the_cards_count(self):
        self.build_the_floor()
        self.start_tour(
            "/odoo/action-pico_mes.pico_dashboard_action",
            "pico_mes_dashboard_pictures",
            login="admin",
        )
