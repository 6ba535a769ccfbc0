"""Helpers of the simulator's tests: a GraphQL client, a local webhook receiver,
and shortcuts for the mutations. None of them needs Odoo."""

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from pico_sim import DEMO_SEED, PicoSimulator

TOKEN = "secret-token"


class GraphQLClient:
    """Posts GraphQL requests with the PICO token header."""

    def __init__(self, url: str, token: str = TOKEN):
        self.url = url
        self.session = requests.Session()
        self.session.headers["x-pico-api-org"] = token

    def post(self, query: str, variables: dict | None = None, **kwargs):
        body = {"query": query, "variables": variables}
        return self.session.post(self.url, json=body, timeout=10, **kwargs)

    def __call__(self, query: str, variables: dict | None = None) -> dict:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, variables: dict | None = None) -> dict:
        body = self(query, variables)
        assert "errors" not in body, body["errors"]
        return body["data"]


class Receiver:
    """A webhook endpoint recording every POST. It answers the statuses queued in
    ``statuses`` first, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: deque[int] = deque()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                receiver.requests.append(
                    {
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status = receiver.statuses.popleft() if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        ).start()

    @property
    def bodies(self) -> list[dict]:
        return [request["body"] for request in self.requests]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        wait_until(lambda: len(self.requests) >= count, timeout)
        return self.bodies

    def close(self):
        self._server.shutdown()
        self._server.server_close()


def wait_until(condition, timeout: float = 5.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def make_simulator(**options) -> PicoSimulator:
    """A started simulator with the demo seed and quick retries."""
    settings = {
        "token": TOKEN,
        "seed": DEMO_SEED,
        "background_delivery": False,
        "retry_base_seconds": 0.05,
        "retry_cap_seconds": 0.2,
        "delivery_timeout": 2.0,
    }
    return PicoSimulator(**{**settings, **options}).start()


SAVE = """mutation Save($input: OperationOrderSaveInput!) {
  operationOrderSave(input: $input) { message }
}"""
CANCEL = """mutation Cancel($input: OperationOrderCancelInput!) {
  operationOrderCancel(input: $input) { message }
}"""
SUBSCRIBE = """mutation Subscribe($input: SubscribeRequestInput!) {
  webhookSubscribe(input: $input) { message }
}"""


def save_order(gql: GraphQLClient, external_order_id: str, operation_id: str, index=0):
    variables = {
        "input": {
            "externalOrderId": external_order_id,
            "operationId": operation_id,
            "orderIndex": index,
        }
    }
    return gql.data(SAVE, variables)["operationOrderSave"]["message"]


def subscribe(gql: GraphQLClient, url: str, fragment: str, **fields) -> dict:
    variables = {
        "input": {
            "subscriptionID": fields.get("subscription_id", "odoo-test"),
            "responseFragment": fragment,
            "webhookUrl": url,
            "webhookHeaders": fields.get("headers", {"X-Pico-Webhook-Secret": "s3"}),
        }
    }
    return gql(SUBSCRIBE, variables)
