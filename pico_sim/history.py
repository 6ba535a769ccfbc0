"""A day of the floor's past: units built over the last hours, a few still on it.

``build_history`` completes the open units of the given orders as the floor would
have built them over the past ``hours``: each unit's processes back to back, at
the times, stations and operators of ``WorkModel.plan``, more of them in the day
shifts than at night. The last unit of each of the last ``in_progress`` orders
(of products with processes) is left on the floor: its first processes are done,
the last one is under way, and the auto-builder finishes it when it would have
(``buildAfter``). Completions are published as any other, so a subscriber gets
them by webhook, and an ERP asking for the completions of its open orders gets
them too.
"""

import random
from datetime import datetime, timedelta

from .store import OPEN, STARTED
from .times import format_time, utc_now

DAY_SHIFTS = range(6, 22)  # hours (UTC) of the day and evening shifts
NIGHT_WEIGHT = 0.25  # a night hour builds a quarter of a day hour
NEWEST_GAP = timedelta(minutes=10)  # the newest history completion is this old


def build_history(
    sim,
    external_order_ids: list[str],
    hours: float = 24,
    in_progress: int = 0,
    now: datetime | None = None,
) -> dict:
    """Build the open units of these orders in the past; return the figures."""
    if not 0 < hours <= 24 * 31:
        raise ValueError("hours must be in (0, 744]")
    if in_progress < 0:
        raise ValueError("in_progress must be >= 0")
    now = (now or utc_now()).replace(microsecond=0)
    rng = random.Random(f"{sim.work.seed}|history")
    units = [
        (order["externalOrderId"], order["operationId"], order["orderIndex"])
        for ref in dict.fromkeys(external_order_ids)
        for order in sim.store.orders(ref, states=(OPEN, STARTED))
    ]
    if not units:
        raise ValueError("no open unit in these orders")
    held = _on_the_floor(sim, units, in_progress)
    built = [key for key in units if key not in held]
    rng.shuffle(built)
    ends = sorted(_moments(rng, len(built), now - timedelta(hours=hours), now))
    events = 0
    for key, end in zip(built, ends, strict=True):
        events += len(sim.floor.advance_unit(key, sim.work, end=end, now=end))
    for key in held:
        events += _leave_on_the_floor(sim, key, now)
    return {"built": len(built), "inProgress": len(held), "events": events}


def _on_the_floor(sim, units, count: int) -> list:
    """The last unit of each of the last ``count`` orders whose product has
    processes (fewer orders: their units before their last, and so on)."""
    by_order = {}
    for key in units:
        if sim.floor.processes(key[1]):
            by_order.setdefault(key[0], []).append(key)
    held = []
    while len(held) < count and any(by_order.values()):
        for keys in reversed(by_order.values()):
            if keys and len(held) < count:
                held.append(keys.pop())
    return held


def _leave_on_the_floor(sim, key, now: datetime) -> int:
    """Report the unit's processes before the last; it is due half way into it."""
    steps = sim.work.plan(key, sim.floor.processes(key[1]), now)
    due = now + (steps[-1].ended_at - steps[-1].started_at) / 2
    sim.store.hold_order(key, format_time(due))
    return len(sim.floor.advance_unit(key, sim.work, end=due, now=now))


def _moments(rng: random.Random, count: int, start: datetime, now: datetime):
    """``count`` moments in [start, now - NEWEST_GAP], fewer at night."""
    span = (now - NEWEST_GAP - start).total_seconds()
    if span <= 0:
        raise ValueError("hours must be more than the newest gap")
    moments = []
    while len(moments) < count:
        moment = start + timedelta(seconds=rng.uniform(0, span))
        weight = 1.0 if moment.hour in DAY_SHIFTS else NIGHT_WEIGHT
        if rng.random() < weight:
            moments.append(moment.replace(microsecond=0))
    return moments
