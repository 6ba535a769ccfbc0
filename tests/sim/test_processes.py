"""Processes under a product: their completions carry PICO's order key and times."""

from datetime import UTC, datetime, timedelta

from pico_sim.times import parse_time

from .helpers import GraphQLClient, make_simulator, save_order, wait_until

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def add_processes(sim):
    for pico_id, name in (("op-p-assembly", "Assembly"), ("op-p-test", "Test")):
        sim.upsert_operation({"id": pico_id, "name": name})
        sim.upsert_sub_operation("op-desk-lamp", pico_id)


def test_process_completion_has_its_times_station_and_operator(sim, gql):
    add_processes(sim)
    save_order(gql, "WH/MO/00201", "op-desk-lamp", 2)
    event = sim.complete_wip(
        "WH/MO/00201",
        "op-desk-lamp",
        2,
        "op-p-assembly",
        started_at=T0,
        at=T0 + timedelta(minutes=12),
        station="Bench A",
        operator="Ada",
    )
    assert (event["externalOrderId"], event["orderIndex"]) == ("WH/MO/00201", 2)
    assert event["operation"]["id"] == "op-p-assembly"
    assert parse_time(event["operationSummary"]["startedAt"]) == T0
    assert event["operationSummary"]["cycleTime"] == 12 * 60 * 1000
    assert event["endState"]["station"] == {"name": "Bench A"}
    assert event["endState"]["operator"] == {"name": "Ada"}


def test_next_process_starts_when_the_previous_one_ended(sim, gql):
    add_processes(sim)
    save_order(gql, "WH/MO/00202", "op-desk-lamp", 0)
    first_end = T0 + timedelta(minutes=10)
    sim.complete_wip(
        "WH/MO/00202", "op-desk-lamp", 0, "op-p-assembly", started_at=T0, at=first_end
    )
    event = sim.complete_wip(
        "WH/MO/00202",
        "op-desk-lamp",
        0,
        "op-p-test",
        at=first_end + timedelta(minutes=4),
    )
    assert parse_time(event["operationSummary"]["startedAt"]) == first_end
    assert event["operationSummary"]["cycleTime"] == 4 * 60 * 1000


def test_auto_build_completes_each_process_then_the_unit():
    sim = make_simulator(auto_build_seconds=0.4)
    try:
        add_processes(sim)
        gql = GraphQLClient(sim.url)
        save_order(gql, "WH/MO/00203", "op-desk-lamp")
        wait_until(lambda: sim.orders()[0]["state"] == "completed", timeout=3)
        events = sim.completions()
        assert [e["operation"]["id"] for e in events] == [
            "op-p-assembly",
            "op-p-test",
            "op-desk-lamp",
        ]
        assert {(e["externalOrderId"], e["orderIndex"]) for e in events} == {
            ("WH/MO/00203", 0)
        }
        ends = [parse_time(e["at"]) for e in events]
        assert ends == sorted(ends)
    finally:
        sim.stop()
