"""Queries and their Hasura-style ``where:`` filters."""

import pytest

from pico_sim import generate_operations

from .helpers import GraphQLClient, make_simulator, save_order

OPERATIONS = "query($w: Operation_bool_exp) { operations(where: $w) { id } }"
COMPLETES = """query($w: OperationOrderComplete_bool_exp) {
  operationOrderCompletes(where: $w) { externalOrderId orderIndex operation { id } }
}"""


def operation_ids(gql, where) -> list[str]:
    return [op["id"] for op in gql.data(OPERATIONS, {"w": where})["operations"]]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (None, ["op-desk-lamp", "op-sensor-kit", "op-control-box", "op-proc-solder"]),
        ({"id": {"_eq": "op-sensor-kit"}}, ["op-sensor-kit"]),
        ({"id": {"_in": ["op-desk-lamp", "nope"]}}, ["op-desk-lamp"]),
        ({"externalId": {"_eq": "PICO-CTRL"}}, ["op-control-box"]),
        (
            {"externalId": {"_neq": "PICO-CTRL"}},
            ["op-desk-lamp", "op-sensor-kit"],  # null part numbers never compare
        ),
        ({"externalId": {"_nin": ["PICO-LAMP", "PICO-SENSOR"]}}, ["op-control-box"]),
        (
            {
                "_or": [
                    {"id": {"_eq": "op-desk-lamp"}},
                    {"externalId": {"_eq": "PICO-CTRL"}},
                ]
            },
            ["op-desk-lamp", "op-control-box"],
        ),
        (
            {
                "_and": [
                    {"id": {"_in": ["op-desk-lamp", "op-sensor-kit"]}},
                    {"externalId": {"_eq": "PICO-SENSOR"}},
                ]
            },
            ["op-sensor-kit"],
        ),
        (
            {"externalId": {"_eq": None}},
            ["op-desk-lamp", "op-sensor-kit", "op-control-box", "op-proc-solder"],
        ),
    ],
)
def test_operation_filters(gql, where, expected):
    assert operation_ids(gql, where) == expected


def test_time_filters_compare_instants_across_offsets(sim, gql):
    sim.upsert_operation(
        {"id": "op-new", "name": "New", "updatedAt": "2025-06-01T12:00:00Z"}
    )
    # 13:30 at +02:00 is 11:30 UTC: before the new operation, after the seed ones.
    after = {"updatedAt": {"_gt": "2025-06-01T13:30:00+02:00"}}
    assert operation_ids(gql, after) == ["op-new"]
    same = {"updatedAt": {"_eq": "2025-06-01T14:00:00.000+02:00"}}
    assert operation_ids(gql, same) == ["op-new"]
    window = {
        "updatedAt": {"_gte": "2025-01-15T09:00:00Z", "_lt": "2025-06-01T12:00:00Z"}
    }
    assert len(operation_ids(gql, window)) == 4


def test_completion_filters(sim, gql):
    for index in range(3):
        save_order(gql, "WH/MO/00001", "op-desk-lamp", index)
        sim.complete_unit(
            "WH/MO/00001", "op-desk-lamp", index, at=f"2025-03-0{index + 1}T10:00:00Z"
        )
    save_order(gql, "WH/MO/00002", "op-sensor-kit")
    sim.complete_unit("WH/MO/00002", "op-sensor-kit", 0, at="2025-03-05T10:00:00Z")

    def keys(where):
        rows = gql.data(COMPLETES, {"w": where})["operationOrderCompletes"]
        return [(row["externalOrderId"], row["orderIndex"]) for row in rows]

    assert keys({"operation": {"id": {"_eq": "op-sensor-kit"}}}) == [("WH/MO/00002", 0)]
    assert keys(
        {"externalOrderId": {"_eq": "WH/MO/00001"}, "orderIndex": {"_gte": 1}}
    ) == [
        ("WH/MO/00001", 1),
        ("WH/MO/00001", 2),
    ]
    assert keys({"at": {"_gt": "2025-03-02T10:00:00Z"}}) == [
        ("WH/MO/00001", 2),
        ("WH/MO/00002", 0),
    ]
    assert keys(
        {"orderIndex": {"_in": [0]}, "operation": {"externalId": {"_eq": "PICO-LAMP"}}}
    ) == [("WH/MO/00001", 0)]
    assert keys({"_or": []}) == []


def test_sub_operation_filters(sim, gql):
    sim.upsert_sub_operation("op-desk-lamp", "op-proc-solder", "main")
    sim.upsert_sub_operation("op-control-box", "op-proc-solder")
    query = """query($w: SubOperation_bool_exp) {
      subOperations(where: $w) { parentId subId subGroup updatedAt }
    }"""
    rows = gql.data(query, {"w": {"parentId": {"_eq": "op-desk-lamp"}}})[
        "subOperations"
    ]
    assert [(r["parentId"], r["subId"], r["subGroup"]) for r in rows] == [
        ("op-desk-lamp", "op-proc-solder", "main")
    ]
    assert (
        len(
            gql.data(query, {"w": {"subId": {"_eq": "op-proc-solder"}}})[
                "subOperations"
            ]
        )
        == 2
    )


def test_ten_thousand_operations_are_answered_whole():
    """10,000 operations in one answer (speed is bench/bench_sync.py's business:
    timed tests fail on a loaded machine)."""
    sim = make_simulator(seed=generate_operations(10_000))
    try:
        gql = GraphQLClient(sim.url)
        query = """{ operations { id externalId externalRevision externalCodes name
            templateID variantName consumedSerials { id externalId } updatedAt archivedAt } }"""
        operations = gql.data(query)["operations"]
        assert len(operations) == 10_000
        assert operations[0]["id"] == "op-gen-00001"
        assert operations[-1]["externalId"] == "GEN-10000"
        assert operations[1]["consumedSerials"] == [
            {"id": "attr-gen-00002", "externalId": "GENC-00002"}
        ]
        recent = gql.data(
            OPERATIONS, {"w": {"updatedAt": {"_gt": "2025-01-01T02:46:30Z"}}}
        )
        assert len(recent["operations"]) == 10_000 - 9990
    finally:
        sim.stop()
