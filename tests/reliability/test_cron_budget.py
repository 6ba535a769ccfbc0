"""Case 8, crons within the worker's time limit: Odoo kills a prefork cron worker
whose poll outlasts ``limit_time_real_cron`` or ``limit_time_cpu``. A server
with low limits finds a backlog of stored completions larger than one run can
process (as a crash or a burst leaves it): each run of the processing cron
stops within its budget, commits and triggers the next, the backlog drains,
no worker is killed and no ERROR line appears."""

import json
import re
import tempfile
import time
from pathlib import Path

from .stack import (
    GEVENT_PORT,
    Figures,
    event_check,
    open_productions,
    size,
    unit_events,
    wait_units_sent,
)

UNITS_PER_MO = 10
# above the cron worker's idle wait (60 s + pid % 10, inside the real-time
# limit), so that Odoo does not kill an idle worker; low in CPU time
LOW_LIMITS = ("--limit-time-real-cron=85", "--limit-time-cpu=10")
PROCESS_CRON = "PICO: process received messages"
DURATION = re.compile(r"(?: done in |; duration )([\d.]+)s")
STORE = """
import json
from odoo.addons.pico_mes.services.payload import parse_events
company = env["res.company"].search([("pico_enabled", "=", True)], limit=1)
events = [e for body in json.load(open({path!r})) for e in parse_events(body)]
env["pico.inbox"]._receive(company, events)
env.ref("pico_mes.ir_cron_pico_process")._trigger()
env.cr.commit()
"""


def test_a_backlog_drains_in_runs_within_the_time_limit(stack, figures):
    backlog = size("CRON_BACKLOG")
    mos = max(2, backlog // UNITS_PER_MO)
    _ids, refs = stack.confirmed_mos(
        {
            "PICO-LAMP": [UNITS_PER_MO] * (mos // 2),
            "PICO-SENSOR": [UNITS_PER_MO] * (mos - mos // 2),
        }
    )
    ref_names = [ref for ref, _c, _q in refs]
    wait_units_sent(stack, ref_names)
    events = unit_events(stack, refs)

    stack.odoo.stop()
    node = stack.node(stack.port, GEVENT_PORT, options=LOW_LIMITS).start()
    try:
        offset = node.log_offset()
        start = time.perf_counter()
        store_backlog(stack, events)  # committed, not processed; the cron woken
        stack.inbound_settled(timeout=1200)
        seconds = time.perf_counter() - start
        runs = node.log_lines_since(offset, f"Job '{PROCESS_CRON}' (")
        killed = node.log_lines_since(offset, "timeout after", "CPU time limit")
        errors = node.log_errors_since(offset)
    finally:
        node.stop()
        stack.odoo.start()

    started = [line for line in runs if line.rstrip().endswith("starting")]
    durations = [  # Odoo 18: "... done in 1.690s"; 19: "... duration 1.69s)"
        float(match[1]) for line in runs if (match := DURATION.search(line))
    ]
    result = Figures(
        "cron within the time limit",
        sent=len(events),
        accepted=len(events),
        seconds=seconds,
        extra={
            "limits": " ".join(LOW_LIMITS),
            "runs": len(started),
            "longest run s": max(durations, default=0),
            "workers killed": len(killed),
            "completions/s": round(len(events) / seconds, 1),
        },
    )
    problems, short = event_check(stack, events, result)
    figures(result)
    assert not killed, killed[:3]
    assert not errors, f"{len(errors)} ERROR lines, first: {errors[:3]}"
    assert len(started) > 1, "the backlog fit in one run: make it larger"
    assert not problems, dict(list(problems.items())[:10])
    assert not short, f"finished quantity per order (wanted, got): {short}"
    assert not open_productions(stack, ref_names)


def store_backlog(stack, events):
    """Store the completions as the webhook does, without processing them, and
    trigger the process cron (through ``odoo-bin shell``: another process)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(events, file)
    try:
        stack._odoo_cli(subcommand=["shell"], script=STORE.format(path=file.name))
    finally:
        Path(file.name).unlink()
