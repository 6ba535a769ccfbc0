import os
from contextlib import contextmanager

from odoo.service.server import SLEEP_INTERVAL
from odoo.tests import tagged
from odoo.tools import config

from ..models.pico_inbox import BUDGETED_GROUP_LIMIT
from ..services import cron_budget
from ..services.payload import parse_events
from .common import PicoTransactionCase

PREFORK = {"workers": 2, "limit_time_real": 120, "limit_time_real_cron": -1}


@contextmanager
def odoo_limits(**options):
    """Odoo's configuration, as the server was started with ``options``."""
    saved = {key: config.get(key) for key in options}
    try:
        for key, value in options.items():
            config[key] = value
        yield
    finally:
        for key, value in saved.items():
            config[key] = value


@tagged("post_install", "-at_install")
class TestCronBudget(PicoTransactionCase):
    """Issue 18: each run of a PICO cron stays within a budget safely below the
    limits Odoo kills a worker at, commits, and triggers the next run."""

    def test_a_prefork_cron_worker_keeps_its_idle_wait_inside_the_limit(self):
        idle = SLEEP_INTERVAL + os.getpid() % 10 + 1
        budget = cron_budget.seconds(dict(PREFORK, limit_time_cpu=600))
        self.assertAlmostEqual(budget, (120 - idle - cron_budget.MARGIN) / 3)
        self.assertLess(3 * budget + idle, 120)

    def test_the_cron_limit_overrides_the_real_time_limit(self):
        options = dict(PREFORK, limit_time_real_cron=200, limit_time_cpu=600)
        idle = SLEEP_INTERVAL + os.getpid() % 10 + 1
        self.assertAlmostEqual(
            cron_budget.seconds(options), (200 - idle - cron_budget.MARGIN) / 3
        )

    def test_the_cpu_limit_of_a_prefork_worker_counts(self):
        budget = cron_budget.seconds(dict(PREFORK, limit_time_cpu=20))
        self.assertAlmostEqual(budget, 5.0)

    def test_a_cron_run_by_hand_has_the_http_workers_limit(self):
        options = dict(PREFORK, limit_time_real_cron=30, limit_time_cpu=600)
        self.assertAlmostEqual(cron_budget.seconds(options, in_request=True), 38.33, 2)

    def test_threaded_servers_have_no_idle_wait_nor_cpu_limit(self):
        options = {"workers": 0, "limit_time_real": 95, "limit_time_cpu": 10}
        self.assertAlmostEqual(cron_budget.seconds(options), 30.0)
        options["limit_time_real_cron"] = 0  # threaded: the real-time limit
        self.assertAlmostEqual(cron_budget.seconds(options), 30.0)

    def test_no_limit_caps_a_run_and_low_limits_give_one_unit_of_work(self):
        unlimited = dict(PREFORK, limit_time_real_cron=0, limit_time_cpu=0)
        self.assertEqual(cron_budget.seconds(unlimited), cron_budget.LONGEST)
        self.assertEqual(cron_budget.seconds(dict(PREFORK, limit_time_cpu=3)), 0)

    # ------------------------------------------------------------ the loops

    def progress(self, xmlid):
        cron = self.env.ref(xmlid)
        return self.env["ir.cron.progress"].create({"cron_id": cron.id})

    def in_cron_run(self, model, progress):
        """``model`` as the cron runner calls it: its progress record and its cron
        in the context (Odoo 19.0 checks they match)."""
        return self.env[model].with_context(
            ir_cron_progress_id=progress.id, cron_id=progress.cron_id.id
        )

    def triggers(self, xmlid):
        return self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", self.env.ref(xmlid).id)]
        )

    def pending_completions(self, orders, units=1):
        events = parse_events(
            [
                {
                    "externalOrderId": f"BUDGET/{order}",
                    "operation": {"id": "op-sensor-kit"},
                    "orderIndex": index,
                    "at": "2026-01-01T10:00:00Z",
                }
                for order in range(orders)
                for index in range(units)
            ]
        )
        messages, _duplicates = self.env["pico.inbox"]._receive(self.company, events)
        return messages

    def test_processing_stops_at_its_budget_and_triggers_the_rest(self):
        messages = self.pending_completions(3)
        triggers = self.triggers("pico_mes.ir_cron_pico_process")
        progress = self.progress("pico_mes.ir_cron_pico_process")
        inbox = self.in_cron_run("pico.inbox", progress)
        with odoo_limits(workers=0, limit_time_real=1, limit_time_real_cron=-1):
            inbox._cron_process()
        self.assertEqual(messages.mapped("state"), ["unmatched", "pending", "pending"])
        # Odoo does not run it again in this poll; the trigger wakes a worker
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(self.triggers("pico_mes.ir_cron_pico_process"), triggers + 1)

    def test_processing_within_its_budget_drains_the_backlog(self):
        messages = self.pending_completions(3)
        triggers = self.triggers("pico_mes.ir_cron_pico_process")
        progress = self.progress("pico_mes.ir_cron_pico_process")
        inbox = self.in_cron_run("pico.inbox", progress)
        inbox._cron_process()
        self.assertEqual(set(messages.mapped("state")), {"unmatched"})
        self.assertEqual((progress.done, progress.remaining), (3, 0))
        self.assertEqual(self.triggers("pico_mes.ir_cron_pico_process"), triggers)

    def test_dispatch_stops_at_its_budget_and_triggers_the_rest(self):
        production = self.make_mo(self.sensor, 2)
        production.action_cancel()  # the cancel waits for the save's batch
        triggers = self.triggers("pico_mes.ir_cron_pico_dispatch")
        progress = self.progress("pico_mes.ir_cron_pico_dispatch")
        outbox = self.in_cron_run("pico.outbox", progress)
        with odoo_limits(workers=0, limit_time_real=1, limit_time_real_cron=-1):
            outbox._cron_dispatch()
        self.assertEqual(self.sim_orders(production), [(0, "open"), (1, "open")])
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(self.triggers("pico_mes.ir_cron_pico_dispatch"), triggers + 1)
        outbox._cron_dispatch()
        self.assertEqual(
            self.sim_orders(production), [(0, "cancelled"), (1, "cancelled")]
        )

    def test_a_run_with_a_budget_applies_a_bounded_group_at_a_time(self):
        """One transaction is a unit of work no run can stop in the middle of."""
        messages = self.pending_completions(1, units=BUDGETED_GROUP_LIMIT + 10)
        progress = self.progress("pico_mes.ir_cron_pico_process")
        inbox = self.in_cron_run("pico.inbox", progress)
        with odoo_limits(workers=0, limit_time_real=1, limit_time_real_cron=-1):
            inbox._cron_process()
        states = messages.mapped("state")
        self.assertEqual(states.count("unmatched"), BUDGETED_GROUP_LIMIT)
        self.assertEqual(states.count("pending"), 10)
