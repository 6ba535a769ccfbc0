"""Case 3, Odoo killed: SIGKILL of the prefork process group in the middle of a
burst of completions, then a restart. Every event answered 200 is applied exactly
once; every other one is applied once PICO redelivers it; nothing is half done."""

import threading
import time

from .stack import (
    Deliveries,
    Figures,
    consumed_lots,
    event_check,
    event_key,
    finished_quants,
    half_done,
    lamp_serials,
    open_productions,
    send_concurrently,
    size,
    unit_events,
)

UNITS_PER_MO = 10
KILL_AFTER = 0.4  # of the events answered


def test_sigkill_mid_burst(stack, figures):
    completions = size("KILL_COMPLETIONS")
    mos = max(2, completions // UNITS_PER_MO)
    _ids, refs = stack.confirmed_mos(
        {
            "PICO-LAMP": [UNITS_PER_MO] * (mos // 2),
            "PICO-SENSOR": [UNITS_PER_MO] * (mos - mos // 2),
        }
    )
    events = unit_events(stack, refs)
    stop, first = threading.Event(), Deliveries()

    def killer():
        while len(first.answered) < KILL_AFTER * len(events):
            time.sleep(0.05)
        stack.kill_odoo()
        stop.set()

    thread = threading.Thread(target=killer)
    thread.start()
    send_concurrently(stack, events, size("SENDERS"), stop=stop, deliveries=first)
    thread.join()
    answered_before_kill = set(first.answered)
    after_crash = half_done(stack, events)  # Odoo is down: a still picture
    stack.restart_odoo()
    log_offset = stack.log_offset()

    # PICO redelivers what was not answered 2xx; the process cron's next run
    # finishes what the killed workers had stored but not applied.
    again = send_concurrently(stack, first.unanswered, size("SENDERS"))
    stack.trigger_cron("pico_mes.ir_cron_pico_process", busy_ok=True)
    stack.inbound_settled(timeout=600)

    result = Figures(
        "Odoo killed",
        sent=first.sent + again.sent,
        accepted=first.accepted + again.accepted,
        duplicates=first.duplicates + again.duplicates,
        seconds=first.seconds + again.seconds,
        extra={
            "answered before kill": len(answered_before_kill),
            "redelivered": len(first.unanswered),
            "statuses after restart": again.statuses,
        },
    )
    problems, short = event_check(stack, events, result)
    result.extra["half done after the crash"] = len(after_crash)
    figures(result)
    assert not after_crash, after_crash[:10]
    assert len(answered_before_kill) < len(events), "the kill came too late"
    assert not first.server_errors and not again.server_errors
    assert again.statuses == {200: len(first.unanswered)}, again.statuses
    lost_answered = [k for k in answered_before_kill if k in problems]
    assert not lost_answered, f"answered 200, then lost: {lost_answered[:10]}"
    assert not problems, dict(list(problems.items())[:10])
    assert not short, f"finished quantity per order (wanted, got): {short}"
    assert not open_productions(stack, [ref for ref, _c, _q in refs])
    produced, consumed = lamp_serials(events)
    assert set(finished_quants(stack, produced).values()) <= {1.0}
    assert set(consumed_lots(stack, consumed).values()) <= {1.0}
    assert {event_key(e) for e in events} == answered_before_kill | {
        event_key(e) for e in first.unanswered
    }
    errors = stack.log_errors_since(log_offset)
    assert not errors, f"{len(errors)} ERROR lines after the restart: {errors[:3]}"
