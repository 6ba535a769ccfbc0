"""The shop floor: starting and completing units, WIP, auto-build, the catalogue."""

from datetime import UTC, datetime

import pytest

from pico_sim.times import parse_time

from .helpers import CANCEL, GraphQLClient, make_simulator, save_order, wait_until

FULL_COMPLETE = """{ operationOrderCompletes {
  externalOrderId secondaryExternalOrderId orderIndex at reservedSerialNumber
  operation { id externalId externalRevision externalCodes name templateID variantName
              consumedSerials { id externalId } updatedAt archivedAt }
  operationSummary { startedAt cycleTime consumedSerials { id externalId value } }
  endState { producedSerial at station { name } operator { name } }
} }"""


def test_complete_unit_generates_plausible_data(sim, gql):
    save_order(gql, "WH/MO/00001", "op-desk-lamp", 0)
    event = sim.complete_unit("WH/MO/00001", "op-desk-lamp", 0)
    assert event["endState"]["producedSerial"] == "SN-PICO-LAMP-00001"
    assert event["operationSummary"]["consumedSerials"] == [
        {
            "id": "attr-led-driver",
            "externalId": "PICO-LED-DRIVER",
            "value": "PICO-LED-DRIVER-00001",
        }
    ]
    summary = event["operationSummary"]
    started, at = parse_time(summary["startedAt"]), parse_time(event["at"])
    assert started < at
    assert summary["cycleTime"] == pytest.approx(
        (at - started).total_seconds() * 1000, abs=1
    )
    assert event["endState"]["station"] == {"name": "Station 1"}
    assert sim.orders("WH/MO/00001")[0]["state"] == "completed"
    # The query returns exactly the stored event.
    assert gql.data(FULL_COMPLETE)["operationOrderCompletes"] == [event]


def test_serial_counters_advance(sim, gql):
    for index in range(2):
        save_order(gql, "WH/MO/00001", "op-desk-lamp", index)
    serials = [
        sim.complete_unit("WH/MO/00001", "op-desk-lamp", i)["endState"][
            "producedSerial"
        ]
        for i in range(2)
    ]
    assert serials == ["SN-PICO-LAMP-00001", "SN-PICO-LAMP-00002"]


def test_complete_unit_with_given_values(sim, gql):
    save_order(gql, "WH/MO/00002", "op-control-box")
    sim.start_unit("WH/MO/00002", "op-control-box", 0)
    at = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    event = sim.complete_unit(
        "WH/MO/00002",
        "op-control-box",
        0,
        produced_serial="CB-1",
        consumed_serials={"PICO-PCB": "PCB-77", "EXTRA-PART": "EX-1"},
        reserved_serial="CB-RES",
        at=at,
        station="Final 2",
        operator="J. Doe",
    )
    assert event["at"] == "2020-01-02T03:04:05.000Z"
    assert event["reservedSerialNumber"] == "CB-RES"
    assert event["endState"] == {
        "producedSerial": "CB-1",
        "at": "2020-01-02T03:04:05.000Z",
        "station": {"name": "Final 2"},
        "operator": {"name": "J. Doe"},
    }
    assert event["operationSummary"]["consumedSerials"] == [
        {"id": "attr-pcb", "externalId": "PICO-PCB", "value": "PCB-77"},
        {"id": "EXTRA-PART", "externalId": "EXTRA-PART", "value": "EX-1"},
    ]
    # Started just now, after the given completion time: a plausible start before
    # the completion is invented instead.
    assert parse_time(event["operationSummary"]["startedAt"]) < at


def test_consumed_serials_as_attribute_list(sim, gql):
    save_order(gql, "WH/MO/00003", "op-control-box")
    items = [{"id": "attr-pcb", "externalId": "PICO-PCB", "value": "PCB-1"}]
    event = sim.complete_unit(
        "WH/MO/00003", "op-control-box", 0, consumed_serials=items
    )
    assert event["operationSummary"]["consumedSerials"] == items


def test_start_records_the_start_time(sim, gql):
    save_order(gql, "WH/MO/00004", "op-sensor-kit")
    order = sim.start_unit("WH/MO/00004", "op-sensor-kit", 0)
    assert order["state"] == "started"
    event = sim.complete_unit("WH/MO/00004", "op-sensor-kit", 0)
    assert event["operationSummary"]["startedAt"] == order["startedAt"]
    assert event["operationSummary"]["consumedSerials"] == []


@pytest.mark.parametrize("state", ["cancelled", "completed", "unknown"])
def test_only_open_or_started_orders_complete(sim, gql, state):
    if state != "unknown":
        save_order(gql, "WH/MO/00005", "op-desk-lamp")
    if state == "cancelled":
        order = {"externalOrderId": "WH/MO/00005", "operationId": "op-desk-lamp"}
        gql(CANCEL, {"input": {**order, "cancelAll": True}})
    if state == "completed":
        sim.complete_unit("WH/MO/00005", "op-desk-lamp", 0)
    with pytest.raises(ValueError):
        sim.complete_unit("WH/MO/00005", "op-desk-lamp", 0)


def test_complete_wip_names_the_child_operation(sim, gql):
    save_order(gql, "WH/MO/00006", "op-desk-lamp", 1)
    event = sim.complete_wip("WH/MO/00006", "op-desk-lamp", 1, "op-proc-solder")
    assert event["operation"]["id"] == "op-proc-solder"
    assert (event["externalOrderId"], event["orderIndex"]) == ("WH/MO/00006", 1)
    assert sim.orders("WH/MO/00006")[0]["state"] == "open"
    assert len(sim.completions()) == 1
    with pytest.raises(ValueError):
        sim.complete_wip("WH/MO/00006", "op-desk-lamp", 1, "op-missing")


def test_upsert_and_archive_operations(sim, gql):
    created = sim.upsert_operation({"id": "op-new", "name": "New", "externalId": "A|B"})
    assert created["externalCodes"] == ["A", "B"]
    edited = sim.upsert_operation({"id": "op-new", "name": "Renamed"})
    assert (edited["name"], edited["externalId"]) == ("Renamed", "A|B")
    assert edited["updatedAt"] >= created["updatedAt"]
    archived = sim.archive_operation("op-new")
    assert archived["archivedAt"] == archived["updatedAt"]
    (row,) = gql.data(
        '{ operations(where: {id: {_eq: "op-new"}}) { name archivedAt } }'
    )["operations"]
    assert row == {"name": "Renamed", "archivedAt": archived["archivedAt"]}
    with pytest.raises(ValueError):
        sim.archive_operation("op-missing")
    with pytest.raises(ValueError):
        sim.upsert_operation({"id": "op-x", "name": "X", "colour": "red"})


def test_auto_build_starts_then_completes_saved_orders():
    sim = make_simulator(auto_build_seconds=0.4)
    try:
        gql = GraphQLClient(sim.url)
        save_order(gql, "WH/MO/00100", "op-sensor-kit")
        wait_until(lambda: sim.orders()[0]["state"] == "started", timeout=3)
        wait_until(lambda: sim.orders()[0]["state"] == "completed", timeout=3)
        (event,) = sim.completions()
        assert event["externalOrderId"] == "WH/MO/00100"
        age = parse_time(event["at"]) - parse_time(sim.orders()[0]["createdAt"])
        assert 0.4 <= age.total_seconds() < 2
    finally:
        sim.stop()
