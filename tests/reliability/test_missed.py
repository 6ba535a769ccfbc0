"""Case 4, missed deliveries: PICO's webhooks cannot reach Odoo for a while;
reconciliation recovers every completion, and the late redeliveries double
nothing."""

import time

from .stack import (
    Figures,
    complete_in_pico,
    event_check,
    event_key,
    messages_by_key,
    open_productions,
    redirect_webhooks,
    size,
    wait_units_sent,
)

UNITS_PER_MO = 5
NOWHERE = "http://127.0.0.1:9/pico_mes/webhook"  # the discard port: refused


def test_reconciliation_recovers_missed_deliveries(stack, figures):
    mos = max(2, size("MISSED_COMPLETIONS") // UNITS_PER_MO)
    _ids, refs = stack.confirmed_mos(
        {
            "PICO-LAMP": [UNITS_PER_MO] * (mos // 2),
            "PICO-SENSOR": [UNITS_PER_MO] * (mos - mos // 2),
        }
    )
    ref_names = [ref for ref, _c, _q in refs]
    wait_units_sent(stack, ref_names)
    log_offset = stack.log_offset()
    redirect_webhooks(stack, NOWHERE)
    try:
        events = complete_in_pico(stack, refs)
        keys = [event_key(e) for e in events]
        stack.control.post("/control/deliver", force=True)  # fails: nobody there
        assert not messages_by_key(stack, keys), "a dropped webhook reached Odoo"

        start = time.perf_counter()
        stack.trigger_cron("pico_mes.ir_cron_pico_reconcile")
        stack.inbound_settled(timeout=600)
        reconciled = len(messages_by_key(stack, keys))
        seconds = time.perf_counter() - start
    finally:
        redirect_webhooks(stack, stack.webhook_url)

    redelivered = stack.control.post("/control/deliver", force=True)["results"]
    stack.inbound_settled(timeout=300)
    statuses = {}
    for result in redelivered:
        statuses[result["status"]] = statuses.get(result["status"], 0) + 1
    result = Figures(
        "missed deliveries",
        sent=len(redelivered),
        accepted=reconciled,
        duplicates=statuses.get(200, 0),
        seconds=seconds,
        extra={"MOs": mos, "late redeliveries": statuses},
    )
    problems, short = event_check(stack, events, result)
    figures(result)
    assert reconciled == len(events), "reconciliation missed completions"
    assert not problems, dict(list(problems.items())[:10])
    assert not short, f"finished quantity per order (wanted, got): {short}"
    assert not open_productions(stack, ref_names)
    assert all(status == 200 for status in statuses), statuses
    errors = stack.log_errors_since(log_offset)
    assert not errors, f"{len(errors)} ERROR lines, first: {errors[:3]}"
