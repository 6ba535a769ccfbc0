"""The floor's pace: minutes of work on a compressed clock, stations, operators,
spread and slow units, the same for a seed; and a day of history."""

import time
from datetime import UTC, datetime, timedelta
from statistics import median

import pytest
import requests

from pico_sim.times import parse_time
from pico_sim.work import WorkModel

from .helpers import TOKEN, GraphQLClient, make_simulator, save_order, wait_until

END = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
LAMP = "op-desk-lamp"
PROCESSES = {
    "op-w-assembly": {"minutes": 24, "stations": ["Assembly 1", "Assembly 2"]},
    "op-w-test": {"minutes": 9, "stations": ["Test 1"]},
}
OPERATORS = ["Ana", "Ben", "Chen"]


def floor_of(sim):
    sim.configure_floor(PROCESSES, OPERATORS)
    for pico_id in PROCESSES:
        sim.upsert_operation({"id": pico_id, "name": pico_id.split("-")[-1]})
        sim.upsert_sub_operation(LAMP, pico_id)
    return GraphQLClient(sim.url)


def plans(model, count, processes=tuple(PROCESSES)):
    return [model.plan(("REF", LAMP, i), list(processes), END) for i in range(count)]


def test_a_unit_has_the_same_times_for_a_seed_and_others_for_another():
    first, again, other = WorkModel(7), WorkModel(7), WorkModel(8)
    for model in (first, again, other):
        model.configure(PROCESSES, OPERATORS)
    assert plans(first, 20) == plans(again, 20)
    assert plans(first, 20) != plans(other, 20)
    assert first.plan(("REF", LAMP, 3), list(PROCESSES), END) == plans(first, 4)[3]


def test_processes_run_back_to_back_for_minutes_on_their_stations():
    model = WorkModel(7)
    model.configure(PROCESSES, OPERATORS)
    units = plans(model, 400)
    for steps in units:
        assert [s.process_id for s in steps] == list(PROCESSES)
        assert steps[-1].ended_at == END
        assert steps[0].ended_at == steps[1].started_at
        assert steps[0].station in PROCESSES["op-w-assembly"]["stations"]
        assert steps[1].station == "Test 1"
        assert {s.operator for s in steps} <= set(OPERATORS)
    assembly = [steps[0].minutes for steps in units]
    assert median(assembly) == pytest.approx(24, rel=0.05)
    assert min(assembly) < 22 and max(assembly) > 26, "times spread"
    slow = [
        s
        for s in units
        if max(st.minutes / PROCESSES[st.process_id]["minutes"] for st in s) > 1.9
    ]
    assert 0.02 < len(slow) / len(units) < 0.12, "an occasional slow unit"
    assert {s[0].operator for s in units} == set(OPERATORS)


def test_unconfigured_processes_get_stable_plausible_minutes():
    minutes = WorkModel(1).profile("op-anything").minutes
    assert 4 <= minutes <= 14
    assert WorkModel(2).profile("op-anything").minutes == minutes


@pytest.mark.parametrize(
    "arguments",
    [
        {"processes": {"op-x": {"minutes": 0}}},
        {"processes": {"op-x": {"minutes": 5, "stations": [""]}}},
        {"processes": {"op-x": 5}},
        {"operators": []},
        {"slowShare": 2},
    ],
)
def test_bad_floor_settings_are_refused(sim, arguments):
    response = requests.post(
        f"{sim.base_url}/control/floor",
        json=arguments,
        headers={"x-pico-api-org": TOKEN},
        timeout=5,
    )
    assert response.status_code == 400, response.text
    assert sim.work.describe()["processes"] == {}


def test_auto_build_reports_minutes_of_work_within_seconds():
    sim = make_simulator(auto_build_seconds=1.0, random_seed=7)
    try:
        gql = floor_of(sim)
        save_order(gql, "WH/MO/00301", LAMP)
        # Half way the unit is started and its first process reported ...
        wait_until(lambda: len(sim.completions()) == 1, timeout=3)
        assert sim.orders()[0]["state"] == "started"
        wait_until(lambda: sim.orders()[0]["state"] == "completed", timeout=3)
        assembly, test, unit = sim.completions()
        assert [e["operation"]["id"] for e in (assembly, test, unit)] == [
            *PROCESSES,
            LAMP,
        ]
        created = parse_time(sim.orders()[0]["createdAt"])
        assert parse_time(unit["at"]) == created + timedelta(seconds=1)
        minutes = [e["operationSummary"]["cycleTime"] / 60000 for e in (assembly, test)]
        assert 10 < minutes[0] < 90 and 3 < minutes[1] < 35, minutes
        summary = unit["operationSummary"]
        assert summary["startedAt"] == assembly["operationSummary"]["startedAt"]
        assert test["operationSummary"]["startedAt"] == assembly["at"]
        assert summary["cycleTime"] == pytest.approx(sum(minutes) * 60000, abs=2)
        assert unit["endState"]["station"] == test["endState"]["station"]
        assert assembly["endState"]["operator"]["name"] in OPERATORS
    finally:
        sim.stop()


def test_a_day_of_history_then_units_left_on_the_floor():
    sim = make_simulator(random_seed=7)
    try:
        gql = floor_of(sim)
        for index in range(30):
            save_order(gql, "WH/MO/00400", LAMP, index)
        save_order(gql, "WH/MO/00401", "op-sensor-kit", 0)  # no processes
        before = datetime.now(UTC)
        result = sim.build_history(["WH/MO/00400", "WH/MO/00401"], 24, in_progress=2)
        assert result == {"built": 29, "inProgress": 2, "events": 28 * 3 + 1 + 2}
        units = [
            e
            for e in sim.completions()
            if e["operation"]["id"] in (LAMP, "op-sensor-kit")
        ]
        ends = [parse_time(e["at"]) for e in units]
        assert len(units) == 29
        assert min(ends) >= before - timedelta(hours=24, seconds=1)
        assert max(ends) <= before - timedelta(minutes=9)
        assert len({end.hour for end in ends}) > 10, "spread over the day"
        held = [o for o in sim.orders() if o["state"] == "started"]
        assert [o["orderIndex"] for o in held] == [28, 29]
        for order in held:
            assert parse_time(order["buildAfter"]) > before
            done = sim.store.completed_operations("WH/MO/00400", order["orderIndex"])
            assert done == {"op-w-assembly"}
    finally:
        sim.stop()


def test_held_units_stay_on_the_floor_until_due():
    sim = make_simulator(auto_build_seconds=0.2, random_seed=7)
    try:
        gql = floor_of(sim)
        save_order(gql, "WH/MO/00500", LAMP, 0)
        save_order(gql, "WH/MO/00500", LAMP, 1)
        sim.build_history(["WH/MO/00500"], 1, in_progress=1)
        key = ("WH/MO/00500", LAMP, 1)
        held = sim.store.order(key)
        assert parse_time(held["buildAfter"]) > datetime.now(UTC)
        time.sleep(1)  # five times the auto-build delay
        assert sim.store.order(key)["state"] == "started"
        sim.store.hold_order(key, held["createdAt"])
        wait_until(lambda: sim.store.order(key)["state"] == "completed", timeout=3)
        last = [e["operation"]["id"] for e in sim.completions() if e["orderIndex"] == 1]
        assert last == [*PROCESSES, LAMP], "the rest of the unit, once"
    finally:
        sim.stop()
