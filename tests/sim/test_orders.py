"""Operation order mutations: idempotent saves, cancel rules, aliased batches."""

from .helpers import CANCEL, SAVE

BATCH = """mutation Batch($a: OperationOrderSaveInput!, $b: OperationOrderSaveInput!,
                      $c: OperationOrderSaveInput!) {
  u0: operationOrderSave(input: $a) { message }
  u1: operationOrderSave(input: $b) { message }
  u2: operationOrderSave(input: $c) { message }
}"""


def save(gql, index=0, **extra):
    order = {"externalOrderId": "WH/MO/00007", "operationId": "op-desk-lamp"}
    return gql(SAVE, {"input": {**order, "orderIndex": index, **extra}})


def cancel(gql, **fields):
    order = {"externalOrderId": "WH/MO/00007", "operationId": "op-desk-lamp"}
    return gql(CANCEL, {"input": {**order, **fields}})


def states(sim) -> dict[int, str]:
    return {order["orderIndex"]: order["state"] for order in sim.orders("WH/MO/00007")}


def test_save_creates_then_is_idempotent(sim, gql):
    assert save(gql)["data"]["operationOrderSave"]["message"] == "created"
    assert save(gql)["data"]["operationOrderSave"]["message"] == "updated"
    assert save(gql, 1)["data"]["operationOrderSave"]["message"] == "created"
    assert states(sim) == {0: "open", 1: "open"}


def test_save_keeps_the_optional_fields(sim, gql):
    save(gql, secondaryExternalOrderId="SO-12", reservedSerialNumber="SN-RES-1")
    save(gql, selectOptionalOperationIds=["op-proc-solder"])
    (order,) = sim.orders("WH/MO/00007")
    assert order["secondaryExternalOrderId"] == "SO-12"
    assert order["reservedSerialNumber"] == "SN-RES-1"
    assert order["selectOptionalOperationIds"] == ["op-proc-solder"]
    event = sim.complete_unit("WH/MO/00007", "op-desk-lamp", 0)
    assert event["secondaryExternalOrderId"] == "SO-12"
    assert event["reservedSerialNumber"] == "SN-RES-1"
    assert event["endState"]["producedSerial"] == "SN-RES-1"


def test_missing_order_index_means_zero(sim, gql):
    gql(
        SAVE,
        {"input": {"externalOrderId": "WH/MO/00007", "operationId": "op-desk-lamp"}},
    )
    assert states(sim) == {0: "open"}


def test_unknown_operation_is_a_graphql_error(sim, gql):
    body = gql(SAVE, {"input": {"externalOrderId": "X", "operationId": "op-nope"}})
    assert body["data"] is None
    assert body["errors"][0]["message"] == "unknown operationId 'op-nope'"
    assert body["errors"][0]["path"] == ["operationOrderSave"]
    assert sim.orders() == []


def test_resaving_a_cancelled_order_leaves_it_cancelled(sim, gql):
    save(gql)
    cancel(gql, orderIndex=0)
    assert save(gql)["data"]["operationOrderSave"]["message"] == "updated"
    assert states(sim) == {0: "cancelled"}


def test_cancel_all_cancels_only_open_orders(sim, gql):
    for index in range(4):
        save(gql, index)
    sim.start_unit("WH/MO/00007", "op-desk-lamp", 1)
    sim.complete_unit("WH/MO/00007", "op-desk-lamp", 2)
    assert (
        cancel(gql, cancelAll=True)["data"]["operationOrderCancel"]["message"]
        == "canceled"
    )
    assert states(sim) == {0: "cancelled", 1: "started", 2: "completed", 3: "cancelled"}


def test_cancel_one_index(sim, gql):
    save(gql, 0)
    save(gql, 1)
    cancel(gql, orderIndex=1)
    assert states(sim) == {0: "open", 1: "cancelled"}


def test_cancel_leaves_other_orders_alone(sim, gql):
    save(gql)
    gql(
        SAVE,
        {"input": {"externalOrderId": "WH/MO/00008", "operationId": "op-desk-lamp"}},
    )
    cancel(gql, cancelAll=True)
    assert sim.orders("WH/MO/00008")[0]["state"] == "open"


def test_cancel_needs_an_index_or_cancel_all(gql):
    body = cancel(gql)
    assert "cancelAll" in body["errors"][0]["message"]


def test_aliased_batch_runs_in_order(sim, gql):
    order = {"externalOrderId": "WH/MO/00009", "operationId": "op-control-box"}
    variables = {name: {**order, "orderIndex": i} for i, name in enumerate("abc")}
    body = gql(BATCH, variables)
    assert body == {
        "data": {
            "u0": {"message": "created"},
            "u1": {"message": "created"},
            "u2": {"message": "created"},
        }
    }
    assert [o["orderIndex"] for o in sim.orders("WH/MO/00009")] == [0, 1, 2]
    assert sim.stats()["mutations"] == {"operationOrderSave": 3}
    assert sim.stats()["graphqlRequests"] == 1


def test_aliased_batch_with_one_failing_alias(sim, gql):
    order = {"externalOrderId": "WH/MO/00010", "operationId": "op-desk-lamp"}
    variables = {
        "a": {**order, "orderIndex": 0},
        "b": {**order, "operationId": "op-missing", "orderIndex": 1},
        "c": {**order, "orderIndex": 2},
    }
    body = gql(BATCH, variables)
    (error,) = body["errors"]
    assert error["path"] == ["u1"]
    assert error["message"] == "unknown operationId 'op-missing'"
    # As graphql-core and graphql-js: MutationResponse! is non-null, so the first
    # failure nulls data and stops the fields after it; only u0 took effect.
    assert body["data"] is None
    assert [o["orderIndex"] for o in sim.orders("WH/MO/00010")] == [0]
    assert sim.stats()["mutations"] == {"operationOrderSave": 2}
