from odoo.tests import tagged

from ..services.payload import parse_events
from .common import PicoTransactionCase, add_groups, production_family


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
        self.assertEqual(len(cards), 5)
        unmatched = cards.filtered(lambda c: c.code == "unmatched")
        self.assertEqual(unmatched.count, 0)
        self.make_mo(self.sensor, 1)
        waiting = cards.filtered(lambda c: c.code == "waiting")
        waiting.invalidate_recordset(["count"])
        self.assertEqual(waiting.count, 1)
