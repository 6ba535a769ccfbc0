"""State in a SQLite file survives a restart."""

from .helpers import GraphQLClient, make_simulator, save_order, subscribe

FRAGMENT = "fragment F on OperationOrderComplete { externalOrderId orderIndex }"


def test_restart_keeps_state_and_pending_deliveries(tmp_path, receiver):
    db = str(tmp_path / "pico.sqlite")
    first = make_simulator(db_path=db)
    gql = GraphQLClient(first.url)
    save_order(gql, "WH/MO/00001", "op-desk-lamp", 0)
    save_order(gql, "WH/MO/00001", "op-desk-lamp", 1)
    subscribe(gql, receiver.url, FRAGMENT)
    first.upsert_operation({"id": "op-desk-lamp", "name": "Desk Lamp v2"})
    receiver.statuses.append(500)
    first.complete_unit("WH/MO/00001", "op-desk-lamp", 0)
    first.deliver_pending()  # fails: the delivery stays pending
    first.stop()

    second = make_simulator(db_path=db)  # same seed: edits must not be overwritten
    try:
        gql = GraphQLClient(second.url)
        assert [o["state"] for o in second.orders("WH/MO/00001")] == [
            "completed",
            "open",
        ]
        assert len(second.subscriptions()) == 1
        names = {op["id"]: op["name"] for op in second.operations()}
        assert names["op-desk-lamp"] == "Desk Lamp v2"
        assert (
            len(
                gql.data("{ operationOrderCompletes { orderIndex } }")[
                    "operationOrderCompletes"
                ]
            )
            == 1
        )
        assert save_order(gql, "WH/MO/00001", "op-desk-lamp", 1) == "updated"
        assert [status for status, _ in second.deliver_pending(now=True)] == [200]
        assert receiver.bodies[-1] == {
            "data": {
                "operationOrderCompletesStream": {
                    "externalOrderId": "WH/MO/00001",
                    "orderIndex": 0,
                }
            }
        }
        event = second.complete_unit("WH/MO/00001", "op-desk-lamp", 1)
        assert event["endState"]["producedSerial"] == "SN-PICO-LAMP-00002"
    finally:
        second.stop()


def test_reset_keeps_operations_and_subscriptions(sim, gql, receiver):
    subscribe(gql, receiver.url, FRAGMENT)
    sim.upsert_operation({"id": "op-extra", "name": "Extra"})
    save_order(gql, "WH/MO/00001", "op-desk-lamp")
    sim.complete_unit("WH/MO/00001", "op-desk-lamp", 0)
    sim.reset()
    assert (sim.orders(), sim.completions(), sim.deliveries()) == ([], [], [])
    assert sim.stats()["graphqlRequests"] == 0
    assert len(sim.subscriptions()) == 1
    assert len(sim.operations()) == 5
    sim.reset(operations=True, subscriptions=True)
    assert sim.subscriptions() == []
    assert [op["id"] for op in sim.operations()] == [
        "op-desk-lamp",
        "op-sensor-kit",
        "op-control-box",
        "op-proc-solder",
    ]
