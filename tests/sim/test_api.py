"""The GraphQL endpoint: schema, authentication, request errors, introspection."""

from pathlib import Path

import pytest
import requests
from graphql import build_client_schema, get_introspection_query, print_schema

from pico_sim.schema import SCHEMA, SDL_PATH

from .helpers import TOKEN, GraphQLClient

SHARED_SCHEMA = Path(__file__).parents[3] / "shared/pico/schema.graphql"


def test_schema_is_a_verbatim_copy_of_the_shared_one():
    if not SHARED_SCHEMA.exists():
        pytest.skip(f"{SHARED_SCHEMA} is not available here")
    assert SDL_PATH.read_bytes() == SHARED_SCHEMA.read_bytes()


def test_schema_serves_the_documented_root_fields():
    assert set(SCHEMA.query_type.fields) == {
        "operations",
        "subOperations",
        "operationOrderCompletes",
    }
    assert set(SCHEMA.mutation_type.fields) == {
        "operationOrderSave",
        "operationOrderCancel",
        "webhookSubscribe",
        "webhookUnsubscribe",
        "processCreate",  # issue 13: Work Instructions API
        "productCreate",
        "stationCreate",
    }


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_requests_without_the_right_token_are_refused(sim, token):
    headers = {} if token is None else {"x-pico-api-org": token}
    response = requests.post(
        sim.url, json={"query": "{ operations { id } }"}, headers=headers, timeout=5
    )
    assert response.status_code == 401
    assert response.json() == {
        "errors": [{"message": "invalid or missing x-pico-api-org token"}]
    }


def test_both_endpoint_paths_answer(sim):
    for path in ("/graph/v2", "/graphql"):
        client = GraphQLClient(sim.base_url + path)
        assert len(client.data("{ operations { id } }")["operations"]) == 4


def test_malformed_json_is_a_bad_request(sim):
    headers = {"x-pico-api-org": TOKEN, "Content-Type": "application/json"}
    response = requests.post(sim.url, data="{not json", headers=headers, timeout=5)
    assert response.status_code == 400
    assert "malformed JSON" in response.json()["errors"][0]["message"]


def test_a_body_without_query_is_a_bad_request(sim):
    response = requests.post(
        sim.url, json={"variables": {}}, headers={"x-pico-api-org": TOKEN}, timeout=5
    )
    assert response.status_code == 400


def test_syntax_errors_are_graphql_errors_with_http_200(gql):
    response = gql.post("{ operations { id ")
    assert response.status_code == 200
    (error,) = response.json()["errors"]
    assert error["message"].startswith("Syntax Error")
    assert error["locations"] == [{"line": 1, "column": 19}]
    assert "data" not in response.json()


def test_unknown_fields_fail_validation(gql):
    body = gql("{ operations { id partNumber } }")
    assert "data" not in body
    assert "Cannot query field 'partNumber'" in body["errors"][0]["message"]


def test_bad_variables_are_reported(gql):
    body = gql(
        "query($w: Operation_bool_exp) { operations(where: $w) { id } }",
        {"w": {"updatedAt": {"_gt": "yesterday"}}},
    )
    assert "RFC 3339" in body["errors"][0]["message"]


def test_subscriptions_over_plain_post_are_refused(gql):
    body = gql("subscription { operationsStream { id } }")
    assert "webhookSubscribe" in body["errors"][0]["message"]


def test_introspection_rebuilds_the_schema(gql):
    data = gql.data(get_introspection_query())
    assert print_schema(build_client_schema(data)) == print_schema(SCHEMA)


def test_in_process_execution_matches_http(sim, gql):
    query = "{ operations { id name } }"
    assert sim.execute(query) == gql(query)
