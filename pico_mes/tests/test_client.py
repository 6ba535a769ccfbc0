import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..services import documents
from ..services.client import (
    PicoClient,
    PicoGraphQLError,
    PicoHttpError,
    PicoResponseError,
    PicoTransportError,
)
from .common import TOKEN, PicoSimulatorMixin


class TestClient(PicoSimulatorMixin, unittest.TestCase):
    """Error classification against the simulator over real HTTP."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls.start_simulator()

    def setUp(self):
        super().setUp()
        self.sim.clear_faults()
        self.client = PicoClient(self.sim.url, TOKEN, timeout=(2, 2))
        self.addCleanup(self.client.close)

    def test_good_answer(self):
        data = self.client.execute(documents.OPERATIONS, {"where": {}})
        self.assertIn("op-desk-lamp", [op["id"] for op in data["operations"]])

    def test_wrong_token_is_permanent_and_hides_the_token(self):
        client = PicoClient(self.sim.url, "wrong-token")
        with self.assertRaises(PicoHttpError) as caught:
            client.execute(documents.PING)
        self.assertEqual(caught.exception.status, 401)
        self.assertFalse(caught.exception.retryable)
        self.assertNotIn("wrong-token", str(caught.exception))

    def test_http_500_is_retryable(self):
        self.sim.set_faults(http_status=500)
        with self.assertRaises(PicoHttpError) as caught:
            self.client.execute(documents.PING)
        self.assertTrue(caught.exception.retryable)

    def test_http_429_is_retryable_and_400_is_not(self):
        self.sim.set_faults(http_status=429, count=1)
        with self.assertRaises(PicoHttpError) as caught:
            self.client.execute(documents.PING)
        self.assertTrue(caught.exception.retryable)
        self.sim.set_faults(http_status=400, count=1)
        with self.assertRaises(PicoHttpError) as caught:
            self.client.execute(documents.PING)
        self.assertFalse(caught.exception.retryable)

    def test_graphql_errors_in_a_200_are_permanent(self):
        self.sim.set_faults(graphql_error="boom")
        with self.assertRaises(PicoGraphQLError) as caught:
            self.client.execute(documents.PING)
        self.assertFalse(caught.exception.retryable)
        self.assertIn("boom", str(caught.exception))

    def test_invalid_document_is_a_graphql_error(self):
        with self.assertRaises(PicoGraphQLError):
            self.client.execute("query { nothingHere }")

    def test_timeout_is_retryable(self):
        self.sim.set_faults(latency=1.0)
        client = PicoClient(self.sim.url, TOKEN, timeout=(1, 0.2))
        with self.assertRaises(PicoTransportError) as caught:
            client.execute(documents.PING)
        self.assertTrue(caught.exception.retryable)
        self.assertIn("in time", str(caught.exception))

    def test_dropped_connection_is_retryable(self):
        self.sim.set_faults(drop_connection=True)
        with self.assertRaises(PicoTransportError):
            self.client.execute(documents.PING)

    def test_server_down_is_retryable(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        client = PicoClient(f"http://127.0.0.1:{port}/graph/v2", TOKEN, timeout=(1, 1))
        with self.assertRaises(PicoTransportError) as caught:
            client.execute(documents.PING)
        self.assertTrue(caught.exception.retryable)

    def test_not_graphql_is_permanent(self):
        client = PicoClient(self.sim.base_url + "/", TOKEN)
        with self.assertRaises((PicoResponseError, PicoHttpError)) as caught:
            client.execute(documents.PING)
        self.assertFalse(caught.exception.retryable)

    def test_no_url_configured(self):
        with self.assertRaises(PicoResponseError):
            PicoClient("", TOKEN)

    def test_the_client_is_a_context_manager(self):
        with PicoClient(self.sim.url, TOKEN) as client:
            self.assertIn("__typename", client.execute(documents.PING))
            pools = client.session.get_adapter(self.sim.url).poolmanager.pools
            self.assertEqual(len(pools), 1, "a pooled connection is open")
        self.assertEqual(len(pools), 0, "closed on leaving the block")

    def test_a_redirect_never_carries_the_token_to_another_host(self):
        seen = []
        other = self._http_server(seen, lambda handler: handler.send_response(200))
        target = f"http://localhost:{other.server_address[1]}/graph/v2"

        def redirect(handler):
            handler.send_response(307)
            handler.send_header("Location", target)

        origin = self._http_server([], redirect)
        client = PicoClient(
            f"http://127.0.0.1:{origin.server_address[1]}/graph/v2", TOKEN
        )
        with client, self.assertRaises(PicoHttpError) as caught:
            client.execute(documents.PING)
        self.assertEqual(caught.exception.status, 307)
        self.assertFalse(caught.exception.retryable)
        self.assertEqual(seen, [], "the other host received nothing")

    def _http_server(self, seen, answer):
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                seen.append(dict(self.headers))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer(self)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return server
