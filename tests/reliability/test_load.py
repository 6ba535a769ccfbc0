"""Case 1, load: completions of many MOs (serial-tracked with a serial component,
and untracked) posted by concurrent senders, with duplicates and out of order."""

from .stack import (
    Figures,
    consumed_lots,
    delivery_plan,
    event_check,
    expected_component_use,
    finished_quants,
    lamp_serials,
    open_productions,
    send_concurrently,
    size,
    unit_events,
)

COMPONENTS = ["PICO-LED-DRIVER", "RELY-SCREW", "RELY-BOARD"]


def test_load_exactly_once(stack, figures):
    completions, mos = size("LOAD_COMPLETIONS"), size("LOAD_MOS")
    per_mo = completions // mos
    lamps, sensors = mos // 2, mos - mos // 2
    _ids, refs = stack.confirmed_mos(
        {"PICO-LAMP": [per_mo] * lamps, "PICO-SENSOR": [per_mo] * sensors}
    )
    events = unit_events(stack, refs)
    plan = delivery_plan(events)
    stock_before = stack.qty_available(COMPONENTS)
    log_offset = stack.log_offset()

    deliveries = send_concurrently(stack, plan, size("SENDERS"))
    stack.inbound_settled(timeout=600)

    result = Figures(
        "load",
        sent=deliveries.sent,
        accepted=deliveries.accepted,
        duplicates=deliveries.duplicates,
        seconds=deliveries.seconds,
        extra={
            "MOs": mos,
            "statuses": deliveries.statuses,
            "completions/s": round(len(events) / deliveries.seconds, 1),
        },
    )
    problems, short = event_check(stack, events, result)
    figures(result)
    assert not deliveries.server_errors, deliveries.server_errors[:5]
    assert deliveries.statuses == {200: len(plan)}, deliveries.statuses
    assert result.accepted == len(events), "an event was not accepted exactly once"
    assert result.duplicates == len(plan) - len(events)
    assert not problems, dict(list(problems.items())[:10])
    assert not short, f"finished quantity per order (wanted, got): {short}"
    assert not open_productions(stack, [ref for ref, _c, _q in refs])

    produced, consumed = lamp_serials(events)
    in_stock = finished_quants(stack, produced)
    assert all(qty == 1 for qty in in_stock.values()), {
        s: q for s, q in in_stock.items() if q != 1
    }
    used = consumed_lots(stack, consumed)
    assert all(qty == 1 for qty in used.values()), {
        s: q for s, q in used.items() if q != 1
    }
    stock_after = stack.qty_available(COMPONENTS)
    wanted = expected_component_use((code, qty) for _ref, code, qty in refs)
    used_stock = {c: stock_before[c] - stock_after[c] for c in COMPONENTS}
    assert used_stock == wanted, f"component stock used {used_stock}, BoMs {wanted}"

    errors = stack.log_errors_since(log_offset)
    assert not errors, f"{len(errors)} ERROR lines, first: {errors[:3]}"
