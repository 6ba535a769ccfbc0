from odoo import Command
from odoo.tests import tagged

from .common import PicoTransactionCase

BATCH = 10
EXTRA_PER_MO = 3


@tagged("post_install", "-at_install")
class TestConfirmationCost(PicoTransactionCase):
    """SQL queries the connector adds to confirming a batch of MOs, against the
    same batch with PICO disabled, each from an empty cache as a request
    starts (no timing: ``bench/bench_outbound.py`` measures time)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        workcenter = cls.env["mrp.workcenter"].create({"name": "Assembly"})
        cls.sensor_bom.operation_ids = [
            Command.create(
                {"name": f"Step {n}", "workcenter_id": workcenter.id, "time_cycle": 1}
            )
            for n in range(3)
        ]

    def confirm_queries(self, enabled, quantity=1):
        self.company.pico_enabled = enabled
        productions = self.env["mrp.production"].create(
            [
                {"product_id": self.sensor.id, "product_qty": quantity}
                for _i in range(BATCH)
            ]
        )
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        productions.action_confirm()
        self.env.cr.precommit.run()  # what the commit runs: the dispatcher's wake-up
        self.env.flush_all()
        queries = self.env.cr.sql_log_count - before
        self.assertEqual(len(productions.workorder_ids), 3 * BATCH)
        self.assertEqual(bool(productions.pico_unit_ids), enabled)
        self.productions = productions
        return queries

    def extra_per_mo(self, quantity=1):
        self.confirm_queries(True)  # registry caches, as on a running server
        disabled = self.confirm_queries(False, quantity)
        return (self.confirm_queries(True, quantity) - disabled) / BATCH

    def test_mos_with_operations_add_at_most_3_queries_each(self):
        for quantity in (1, 10):
            with self.subTest(quantity=quantity):
                self.assertLessEqual(self.extra_per_mo(quantity), EXTRA_PER_MO)

    def test_revision_notes_add_at_most_3_queries_per_mo(self):
        self.sensor_bom.code = "B"  # PICO's Sensor Kit is revision A
        self.assertLessEqual(self.extra_per_mo(), EXTRA_PER_MO)
        for production in self.productions:
            self.assertIn("differs", production.message_ids[:1].body or "")
