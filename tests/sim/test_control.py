"""The JSON control API that drives the simulator from another process."""

import pytest
import requests

from .helpers import TOKEN, save_order, subscribe


@pytest.fixture
def control(sim):
    session = requests.Session()
    session.headers["x-pico-api-org"] = TOKEN

    def call(method: str, path: str, expected: int = 200, **kwargs):
        response = session.request(method, sim.base_url + path, timeout=5, **kwargs)
        assert response.status_code == expected, response.text
        return response.json()

    return call


def test_control_needs_the_token(sim):
    response = requests.get(sim.base_url + "/control/stats", timeout=5)
    assert response.status_code == 401


def test_orders_start_complete(sim, gql, control):
    save_order(gql, "WH/MO/00001", "op-control-box", 0)
    save_order(gql, "WH/MO/00002", "op-sensor-kit", 0)
    assert len(control("GET", "/control/orders")["orders"]) == 2
    (order,) = control("GET", "/control/orders?externalOrderId=WH/MO/00001")["orders"]
    assert order["state"] == "open"

    key = {"externalOrderId": "WH/MO/00001", "operationId": "op-control-box"}
    started = control("POST", "/control/start", json={**key, "orderIndex": 0})
    assert started["order"]["state"] == "started"
    event = control(
        "POST",
        "/control/complete",
        json={
            "external_order_id": "WH/MO/00001",
            "operation_id": "op-control-box",
            "order_index": 0,
            "producedSerial": "CB-9",
            "consumedSerials": {"PICO-PCB": "PCB-9"},
            "at": "2025-05-05T10:00:00Z",
        },
    )["event"]
    assert event["endState"]["producedSerial"] == "CB-9"
    assert event["operationSummary"]["consumedSerials"][0]["value"] == "PCB-9"
    assert event["at"] == "2025-05-05T10:00:00.000Z"
    wip = control(
        "POST",
        "/control/complete_wip",
        json={**key, "orderIndex": 0, "wipOperationId": "op-proc-solder"},
    )["event"]
    assert wip["operation"]["id"] == "op-proc-solder"
    assert len(control("GET", "/control/completions")["completions"]) == 2


def test_cancel(sim, gql, control):
    save_order(gql, "WH/MO/00003", "op-sensor-kit", 0)
    body = {
        "externalOrderId": "WH/MO/00003",
        "operationId": "op-sensor-kit",
        "orderIndex": 0,
    }
    assert (
        control("POST", "/control/cancel", json=body)["order"]["state"] == "cancelled"
    )


def test_bad_arguments_are_400(sim, control):
    body = {
        "externalOrderId": "WH/MO/404",
        "operationId": "op-desk-lamp",
        "orderIndex": 0,
    }
    assert (
        "unknown order" in control("POST", "/control/complete", 400, json=body)["error"]
    )
    assert control("POST", "/control/start", 400, json={"bogus": 1})["error"]
    assert control("POST", "/control/faults", 400, json={"httpStatus": 7})["error"]
    assert control("POST", "/control/start", 400, data="[1")["errors"]
    assert control("POST", "/control/start", 400, json=[1])["error"]


def test_unknown_routes(sim, control):
    assert control("GET", "/control/nothing", 404)["error"]
    assert control("GET", "/control/start", 405)["error"]
    assert control("GET", "/elsewhere", 404)


def test_operations_and_sub_operations(sim, control):
    created = control(
        "POST",
        "/control/operations",
        json={"id": "op-new", "name": "New", "externalId": "N"},
    )["operation"]
    assert created["externalCodes"] == ["N"]
    archived = control("POST", "/control/operations/op-new/archive")["operation"]
    assert archived["archivedAt"]
    assert control("POST", "/control/operations/op-missing/archive", 400)["error"]
    link = control(
        "POST",
        "/control/sub_operations",
        json={"parentId": "op-desk-lamp", "subId": "op-proc-solder", "subGroup": "g1"},
    )["subOperation"]
    assert (link["parentId"], link["subGroup"]) == ("op-desk-lamp", "g1")


def test_deliveries_faults_stats_and_reset(sim, gql, control, receiver):
    subscribe(gql, receiver.url, "fragment F on OperationOrderComplete { orderIndex }")
    assert len(control("GET", "/control/subscriptions")["subscriptions"]) == 1
    assert control("POST", "/control/delivery_faults", json={"duplicate": True}) == {
        "deliveryFaults": {"duplicate": True, "reorder": False}
    }
    save_order(gql, "WH/MO/00001", "op-sensor-kit")
    control(
        "POST",
        "/control/complete",
        json={
            "externalOrderId": "WH/MO/00001",
            "operationId": "op-sensor-kit",
            "orderIndex": 0,
        },
    )
    results = control("POST", "/control/deliver", json={"force": True})["results"]
    assert [r["status"] for r in results] == [200, 200]
    (delivery,) = control("GET", "/control/deliveries?limit=5")["deliveries"]
    assert delivery["state"] == "delivered"

    stats = control("GET", "/control/stats")
    assert stats["mutations"] == {"webhookSubscribe": 1, "operationOrderSave": 1}
    assert stats["orders"] == {"completed": 1}
    assert stats["deliveries"] == {"delivered": 1}
    assert len(control("GET", "/control/request_log")["requests"]) == 2

    assert control("POST", "/control/reset", json={}) == {"reset": True}
    assert control("GET", "/control/orders")["orders"] == []
    assert len(control("GET", "/control/subscriptions")["subscriptions"]) == 1
    control("POST", "/control/reset", json={"subscriptions": True})
    assert control("GET", "/control/subscriptions")["subscriptions"] == []


def test_health_needs_no_token(sim):
    assert requests.get(sim.base_url + "/healthz", timeout=5).json() == {"ok": True}
