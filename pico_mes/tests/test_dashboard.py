from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, tagged

from ..services.payload import parse_events
from .common import (
    TOKEN,
    PicoTransactionCase,
    add_groups,
    make_user,
    production_family,
)


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
        self.assertEqual(len(cards), 5)
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
        }

    def test_figures_leave_out_neighbours_other_states_and_old_completions(self):
        expected = self.build_the_floor()
        for code, records in expected.items():
            self.assertTrue(records, code)
        for card in self.cards(self.planner, self.company):
            opened = self.opened(card)
            self.assertEqual(
                sorted(opened.ids), sorted(expected[card.code].ids), card.code
            )
            self.assertEqual(card.count, len(expected[card.code]), card.code)
        both = self.cards(self.planner, self.company | self.plant_b)
        for card in both:  # company B adds one record to each figure
            self.assertEqual(card.count, len(expected[card.code]) + 1, card.code)
