import socket
import unittest

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
