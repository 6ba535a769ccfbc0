"""Fault injection on GraphQL requests, through the library and over HTTP."""

import time

import pytest
import requests

from pico_sim import work_instructions

from .helpers import TOKEN

QUERY = "{ operations { id } }"


def test_latency(sim, gql):
    sim.set_faults(latency=0.2)
    started = time.perf_counter()
    assert len(gql.data(QUERY)["operations"]) == 4
    assert time.perf_counter() - started >= 0.2


def test_http_status_for_the_next_request_only(sim, gql):
    sim.set_faults(http_status=503, count=1)
    response = gql.post(QUERY)
    assert response.status_code == 503
    assert response.json() == {"errors": [{"message": "injected HTTP 503"}]}
    assert gql.post(QUERY).status_code == 200


def test_faulted_mutations_are_not_executed(sim, gql):
    sim.set_faults(http_status=500)
    mutation = """mutation { operationOrderSave(input: {externalOrderId: "MO",
        operationId: "op-desk-lamp"}) { message } }"""
    assert gql.post(mutation).status_code == 500
    assert sim.orders() == []
    sim.clear_faults()
    assert gql.data(mutation)["operationOrderSave"]["message"] == "created"


def test_graphql_error(sim, gql):
    sim.set_faults(graphql_error="PICO is restarting", count=2)
    for _ in range(2):
        assert gql(QUERY) == {"errors": [{"message": "PICO is restarting"}]}
    assert "errors" not in gql(QUERY)


def test_dropped_connection_is_a_connection_error(sim, gql):
    sim.set_faults(drop_connection=True, count=1)
    with pytest.raises(requests.ConnectionError):
        gql.post(QUERY)
    assert gql.post(QUERY).status_code == 200


def test_faults_over_http(sim, gql):
    control = sim.base_url + "/control/faults"
    headers = {"x-pico-api-org": TOKEN}
    answer = requests.post(
        control, json={"httpStatus": 502, "count": 2}, headers=headers, timeout=5
    ).json()
    assert answer["faults"]["http_status"] == 502
    assert answer["faults"]["remaining"] == 2
    assert [gql.post(QUERY).status_code for _ in range(3)] == [502, 502, 200]
    requests.post(control, json={"latency": 0.1}, headers=headers, timeout=5)
    requests.post(control, json={}, headers=headers, timeout=5)
    assert (
        requests.get(control, headers=headers, timeout=5).json()["faults"]["latency"]
        == 0
    )


def test_invalid_faults_are_refused(sim):
    with pytest.raises(ValueError):
        sim.set_faults(http_status=42)
    with pytest.raises(ValueError):
        sim.set_faults(latency=-1)


def test_stats_count_requests_and_faults(sim, gql):
    sim.set_faults(http_status=500, count=1)
    gql.post(QUERY)
    gql.post(QUERY)
    stats = sim.stats()
    assert stats["graphqlRequests"] == 2
    assert stats["faultedRequests"] == 1
    assert stats["queries"] == {"operations": 1}
    assert [entry["status"] for entry in sim.request_log] == [500, 200]
    assert sim.request_log[0]["fault"] == "http_status 500"


def test_refuse_alias_fails_that_field_and_stops_the_rest(sim, gql):
    sim.set_faults(refuse_alias="m1", count=1)
    order = {"externalOrderId": "MO-R", "operationId": "op-desk-lamp"}
    params = ", ".join(f"$m{i}: OperationOrderSaveInput!" for i in range(3))
    fields = " ".join(
        f"m{i}: operationOrderSave(input: $m{i}) {{ message }}" for i in range(3)
    )
    variables = {f"m{i}": {**order, "orderIndex": i} for i in range(3)}
    body = gql(f"mutation Batch({params}) {{ {fields} }}", variables)
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["path"] == ["m1"]
    assert "refusal" in error["message"]
    assert [o["orderIndex"] for o in sim.orders("MO-R")] == [0]
    body = gql(f"mutation Batch({params}) {{ {fields} }}", variables)
    assert "errors" not in body
    assert [o["orderIndex"] for o in sim.orders("MO-R")] == [0, 1, 2]


@pytest.mark.parametrize(
    ("answer", "data"),
    [("false", {"stationCreate": False}), ("null", {"stationCreate": None})],
)
def test_answer_fault_answers_a_mutation_without_doing_it(sim, gql, answer, data):
    sim.set_faults(answer=answer, count=2)
    station = """mutation {
        stationCreate(input: {station: {id: "wc_1", name: "Bench"}}) }"""
    assert gql(station) == {"data": data}
    assert gql.data(QUERY)["operations"]  # a query under the fault answers as usual
    assert work_instructions.definition(sim, "station", "wc_1") is None
    assert gql(station) == {"data": {"stationCreate": True}}


def test_no_data_fault(sim, gql):
    sim.set_faults(answer="no_data", count=1)
    assert gql(QUERY) == {"data": None}
    assert gql(QUERY)["data"]["operations"]
    with pytest.raises(ValueError):
        sim.set_faults(answer="maybe")
