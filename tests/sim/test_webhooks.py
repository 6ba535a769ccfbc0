"""Webhook subscriptions and deliveries: shape, headers, retries, delivery faults."""

import time

import pytest

from pico_sim.delivery import RetryPolicy

from .helpers import GraphQLClient, make_simulator, save_order, subscribe, wait_until

COMPLETES_FRAGMENT = """fragment Done on OperationOrderComplete {
  externalOrderId orderIndex at
  operation { id externalId }
  operationSummary { startedAt consumedSerials { id partNo: externalId serial: value } }
  endState { producedSerial }
}"""
OPERATIONS_FRAGMENT = "fragment Op on Operation { id externalId name archivedAt }"
UNSUBSCRIBE = 'mutation { webhookUnsubscribe(subscriptionID: "odoo-test") { message } }'


def complete_one(sim, gql, external_order_id="WH/MO/00001", index=0) -> dict:
    save_order(gql, external_order_id, "op-desk-lamp", index)
    return sim.complete_unit(external_order_id, "op-desk-lamp", index)


def test_subscribe_answers_subscribed(gql, receiver):
    body = subscribe(gql, receiver.url, COMPLETES_FRAGMENT)
    assert body == {"data": {"webhookSubscribe": {"message": "subscribed"}}}


def test_completion_delivery_has_exactly_the_fragment_fields(sim, gql, receiver):
    subscribe(gql, receiver.url, COMPLETES_FRAGMENT, headers={"X-Secret": "abc"})
    event = complete_one(sim, gql)
    results = sim.deliver_pending()
    assert [status for status, _ in results] == [200]
    (request,) = receiver.requests
    assert request["headers"]["X-Secret"] == "abc"
    assert request["headers"]["Content-Type"] == "application/json"
    (attribute,) = event["operationSummary"]["consumedSerials"]
    assert request["body"] == {
        "data": {
            "operationOrderCompletesStream": {
                "externalOrderId": "WH/MO/00001",
                "orderIndex": 0,
                "at": event["at"],
                "operation": {"id": "op-desk-lamp", "externalId": "PICO-LAMP"},
                "operationSummary": {
                    "startedAt": event["operationSummary"]["startedAt"],
                    "consumedSerials": [
                        {
                            "id": "attr-led-driver",
                            "partNo": "PICO-LED-DRIVER",
                            "serial": attribute["value"],
                        }
                    ],
                },
                "endState": {"producedSerial": event["endState"]["producedSerial"]},
            }
        }
    }
    assert results[0][1] == request["body"]
    assert sim.deliveries()[-1]["state"] == "delivered"


def test_wip_completions_are_delivered_too(sim, gql, receiver):
    subscribe(
        gql, receiver.url, "fragment W on OperationOrderComplete { operation { id } }"
    )
    save_order(gql, "WH/MO/00002", "op-desk-lamp")
    sim.complete_wip("WH/MO/00002", "op-desk-lamp", 0, "op-proc-solder")
    sim.deliver_pending()
    stream = receiver.bodies[0]["data"]["operationOrderCompletesStream"]
    assert stream == {"operation": {"id": "op-proc-solder"}}


def test_operation_events_follow_edits_and_archives(sim, gql, receiver):
    subscribe(gql, receiver.url, OPERATIONS_FRAGMENT)
    subscribe(gql, receiver.url, COMPLETES_FRAGMENT, subscription_id="completes")
    sim.upsert_operation({"id": "op-new", "name": "New", "externalId": "NEW-1"})
    archived = sim.archive_operation("op-new")
    sim.deliver_pending()
    assert [body["data"]["operationsStream"] for body in receiver.bodies] == [
        {"id": "op-new", "externalId": "NEW-1", "name": "New", "archivedAt": None},
        {
            "id": "op-new",
            "externalId": "NEW-1",
            "name": "New",
            "archivedAt": archived["archivedAt"],
        },
    ]


def test_sub_operation_events(sim, gql, receiver):
    subscribe(gql, receiver.url, "fragment S on SubOperation { parentId subId }")
    sim.upsert_sub_operation("op-desk-lamp", "op-proc-solder")
    sim.deliver_pending()
    assert receiver.bodies == [
        {
            "data": {
                "subOperationsStream": {
                    "parentId": "op-desk-lamp",
                    "subId": "op-proc-solder",
                }
            }
        }
    ]


def test_resubscribing_replaces_the_subscription(sim, gql, receiver):
    subscribe(gql, "http://127.0.0.1:9/old", COMPLETES_FRAGMENT)
    subscribe(gql, receiver.url, "fragment F on OperationOrderComplete { orderIndex }")
    (subscription,) = sim.subscriptions()
    assert subscription["webhookUrl"] == receiver.url
    complete_one(sim, gql)
    sim.deliver_pending()
    assert receiver.bodies == [
        {"data": {"operationOrderCompletesStream": {"orderIndex": 0}}}
    ]


def test_unsubscribe(sim, gql, receiver):
    subscribe(gql, receiver.url, COMPLETES_FRAGMENT)
    assert gql.data(UNSUBSCRIBE) == {"webhookUnsubscribe": {"message": "unsubscribed"}}
    assert sim.subscriptions() == []
    complete_one(sim, gql)
    assert sim.deliver_pending() == []
    body = gql(UNSUBSCRIBE)
    assert body["errors"][0]["message"] == "unknown subscriptionID 'odoo-test'"


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ("fragment F on Operation { id", "invalid responseFragment: Syntax Error"),
        ("fragment F on Station { name }", "must be a fragment on one of"),
        ("fragment F on Operation { id colour }", "Cannot query field 'colour'"),
        ("{ operations { id } }", "fragment definitions only"),
        (
            "fragment F on Operation { id } fragment G on Operation { name }",
            "Fragment 'G' is never used",
        ),
    ],
)
def test_invalid_fragments_are_refused(sim, gql, receiver, fragment, message):
    body = subscribe(gql, receiver.url, fragment)
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["webhookSubscribe"]
    assert sim.subscriptions() == []


def test_nested_fragments_are_accepted(sim, gql, receiver):
    fragment = """fragment Done on OperationOrderComplete { operation { ...OpId } }
                  fragment OpId on Operation { id }"""
    assert "errors" not in subscribe(gql, receiver.url, fragment)
    complete_one(sim, gql)
    sim.deliver_pending()
    stream = receiver.bodies[0]["data"]["operationOrderCompletesStream"]
    assert stream == {"operation": {"id": "op-desk-lamp"}}


def test_invalid_url_and_headers_are_refused(gql, receiver):
    assert (
        "URL"
        in subscribe(gql, "not a url", OPERATIONS_FRAGMENT)["errors"][0]["message"]
    )
    body = subscribe(gql, receiver.url, OPERATIONS_FRAGMENT, headers={"X-Count": 3})
    assert "webhookHeaders" in body["errors"][0]["message"]


def test_redelivery_after_500_with_back_off(sim, gql, receiver):
    subscribe(gql, receiver.url, COMPLETES_FRAGMENT)
    receiver.statuses.extend([500, 503])
    complete_one(sim, gql)

    assert [status for status, _ in sim.deliver_pending()] == [500]
    (delivery,) = sim.deliveries()
    assert (delivery["state"], delivery["attempts"], delivery["lastStatus"]) == (
        "pending",
        1,
        500,
    )
    first_delay = delivery["nextAttemptAt"] - time.time()
    assert 0 < first_delay <= 0.05
    assert sim.deliver_pending() == []  # not due yet

    time.sleep(0.06)
    assert [status for status, _ in sim.deliver_pending()] == [503]
    second_delay = sim.deliveries()[0]["nextAttemptAt"] - time.time()
    assert 0.05 < second_delay <= 0.1  # doubled

    assert [status for status, _ in sim.deliver_pending(now=True)] == [200]
    (delivery,) = sim.deliveries()
    assert (delivery["state"], delivery["attempts"]) == ("delivered", 3)
    assert len(receiver.requests) == 3
    assert receiver.bodies[0] == receiver.bodies[2]


def test_connection_failures_are_retried(sim, gql):
    subscribe(gql, "http://127.0.0.1:9/closed", COMPLETES_FRAGMENT)
    complete_one(sim, gql)
    ((status, _body),) = sim.deliver_pending()
    assert status is None
    (delivery,) = sim.deliveries()
    assert delivery["state"] == "pending"
    assert "ConnectionError" in delivery["lastError"]


def test_retry_policy_doubles_up_to_the_cap():
    policy = RetryPolicy(base_seconds=1, cap_seconds=60)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_duplicate_delivery_fault(sim, gql, receiver):
    subscribe(gql, receiver.url, COMPLETES_FRAGMENT)
    sim.set_delivery_faults(duplicate=True)
    complete_one(sim, gql)
    assert [status for status, _ in sim.deliver_pending()] == [200, 200]
    assert len(receiver.bodies) == 2 and receiver.bodies[0] == receiver.bodies[1]
    assert sim.deliveries()[0]["attempts"] == 1


def test_reorder_delivery_fault(sim, gql, receiver):
    subscribe(gql, receiver.url, "fragment F on OperationOrderComplete { orderIndex }")
    sim.set_delivery_faults(reorder=True)
    for index in range(3):
        complete_one(sim, gql, index=index)
    sim.deliver_pending()
    indexes = [
        b["data"]["operationOrderCompletesStream"]["orderIndex"]
        for b in receiver.bodies
    ]
    assert indexes == [2, 1, 0]


def test_background_delivery(receiver):
    sim = make_simulator(background_delivery=True)
    try:
        gql = GraphQLClient(sim.url)
        subscribe(gql, receiver.url, COMPLETES_FRAGMENT)
        receiver.statuses.append(500)
        complete_one(sim, gql)
        bodies = receiver.wait_for(2)
        assert bodies[0] == bodies[1]
        wait_until(lambda: sim.deliveries()[0]["state"] == "delivered")
    finally:
        sim.stop()
