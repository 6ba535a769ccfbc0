from odoo.tests import HttpCase, tagged

from .common import PicoCommon, add_groups


@tagged("post_install", "-at_install")
class TestTours(PicoCommon, HttpCase):
    """What operators and administrators click, in headless Chromium."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        add_groups(cls.env.ref("base.user_admin"), "pico_mes.group_pico_manager")

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def test_operator_confirms_an_order(self):
        production = self.make_mo(self.sensor, 2, confirm=False)
        self.start_tour(
            f"/odoo/action-mrp.mrp_production_action/{production.id}",
            "pico_mes_confirm_order",
            login="admin",
        )
        self.assertEqual(production.pico_state, "queued")
        self.assertEqual(len(production.pico_unit_ids), 2)

    def test_manager_retries_a_failed_order(self):
        self.sim.set_faults(graphql_error="operation store unavailable", count=1)
        production = self.make_mo(self.sensor, 1)
        self.env["pico.message"]._cron_dispatch()
        self.assertEqual(production.pico_state, "error")
        self.start_tour(
            f"/odoo/action-mrp.mrp_production_action/{production.id}",
            "pico_mes_retry_failed_order",
            login="admin",
        )
        self.env["pico.message"]._cron_dispatch()
        self.assertEqual(production.pico_state, "sent")

    def test_admin_tests_the_connection(self):
        self.start_tour("/odoo/settings#mrp", "pico_mes_test_connection", login="admin")
