import json
import socket
import threading
from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import compat
from .common import PicoCommon, production_family

ROUTE = "/pico_mes/webhook"
HEADER = "X-Pico-Webhook-Secret"


@tagged("post_install", "-at_install")
class TestWebhook(PicoCommon, HttpCase):
    """The webhook over real HTTP: PICO's deliveries, and everything else."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        cls.secret = cls.company._pico_webhook_secret()

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def post(self, body, secret=None, raw=False):
        headers = {"Content-Type": "application/json"}
        if secret is not False:
            headers[HEADER] = secret or self.secret
        data = body if raw else json.dumps(body)
        return self.url_open(ROUTE, data=data, headers=headers)

    def event(self, ref="WH/MO/NOPE", index=0):
        return {
            "data": {
                "operationOrderCompletesStream": {
                    "externalOrderId": ref,
                    "operation": {"id": "op-sensor-kit"},
                    "orderIndex": index,
                    "at": "2026-01-01T10:00:00Z",
                    "operationSummary": {"consumedSerials": []},
                }
            }
        }

    def assert_nothing_stored(self):
        self.assertFalse(self.env["pico.message"].search([("direction", "=", "in")]))
        self.assertEqual(self.stock(self.sensor), 0)

    @mute_logger("odoo.addons.pico_mes.controllers.webhook")
    def test_missing_or_wrong_secret_is_401(self):
        for secret in (False, "wrong"):
            response = self.post(self.event(), secret=secret)
            self.assertEqual(response.status_code, 401)
            self.assertNotIn(self.secret, response.text)
        self.assert_nothing_stored()

    def test_malformed_json_is_400(self):
        response = self.post("{not json", raw=True)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["problems"], ["the body is not valid JSON"])
        self.assert_nothing_stored()

    def test_wrong_types_are_400_with_every_problem(self):
        event = self.event()
        event["data"]["operationOrderCompletesStream"].update(
            orderIndex="one", at="yesterday"
        )
        response = self.post(event)
        self.assertEqual(response.status_code, 400)
        problems = response.json()["problems"]
        self.assertIn("orderIndex must be a non-negative integer", problems)
        self.assertIn("at must be an RFC 3339 date-time", problems)
        self.assert_nothing_stored()

    def test_oversized_body_is_413(self):
        self.env["ir.config_parameter"].set_param("pico_mes.webhook_max_bytes", 200)
        response = self.post([self.event(index=i) for i in range(10)])
        self.assertEqual(response.status_code, 413)
        self.assert_nothing_stored()

    def post_chunked(self, chunks):
        """POST ``chunks`` (an iterable of bytes) with Transfer-Encoding: chunked
        over a raw socket, reading the answer while sending. Returns (status,
        answer body, bytes sent when the answer came)."""
        with compat.requests_from_outside(self):
            return self._post_chunked(chunks)

    def _post_chunked(self, chunks):
        address = urlsplit(self.base_url())
        sock = socket.create_connection((address.hostname, address.port), timeout=60)
        head = (
            f"POST {ROUTE} HTTP/1.1\r\nHost: {address.netloc}\r\n"
            f"Content-Type: application/json\r\n{HEADER}: {self.secret}\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        sent, answered = [0], threading.Event()

        def send():
            try:
                sock.sendall(head.encode())
                for chunk in chunks:
                    if answered.is_set():
                        return
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent[0] += len(chunk)
                sock.sendall(b"0\r\n\r\n")
            except OSError:  # the server answered and closed: it read no further
                answered.set()

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
            sent_when_answered = sent[0]
            answered.set()
            while data := sock.recv(65536):
                answer += data
        except OSError:
            sent_when_answered = sent[0]
        finally:
            answered.set()
            sender.join(60)
            sock.close()
        status = int(answer.split(b" ", 2)[1]) if answer else None
        return status, answer.partition(b"\r\n\r\n")[2], sent_when_answered

    def test_an_oversized_chunked_body_is_refused_while_it_is_read(self):
        """No Content-Length to check first: the limit holds while reading, so
        the answer comes long before the 50 MB are sent."""
        limit = 64 * 1024
        self.env["ir.config_parameter"].set_param("pico_mes.webhook_max_bytes", limit)
        total, chunk = 50 * 1024 * 1024, b" " * (64 * 1024)
        status, _body, sent = self.post_chunked(
            chunk for _i in range(total // len(chunk))
        )
        self.assertEqual(status, 413)
        # what the server read, plus what the sockets' buffers held meanwhile
        self.assertLess(sent, 16 * 1024 * 1024)
        self.assert_nothing_stored()

    def test_a_chunked_body_within_the_limit_is_received(self):
        body = json.dumps(self.event()).encode()
        status, answer, _sent = self.post_chunked(
            [body[i : i + 7] for i in range(0, len(body), 7)]
        )
        self.assertEqual(status, 200, answer)
        self.assertEqual(
            self.env["pico.message"].search([("direction", "=", "in")]).order_ref,
            "WH/MO/NOPE",
        )

    def test_get_is_refused(self):
        response = self.url_open(ROUTE, headers={HEADER: self.secret})
        self.assertEqual(response.status_code, 405)

    @mute_logger("odoo.addons.pico_mes.models.pico_message")
    def test_unknown_order_is_answered_and_kept_unmatched(self):
        response = self.post(self.event())
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"accepted": 1, "duplicates": 0})
        message = self.env["pico.message"].search([("direction", "=", "in")])
        self.assertEqual(message.state, "unmatched")
        response = self.post(self.event())
        self.assertEqual(response.json(), {"accepted": 0, "duplicates": 1})

    def test_pico_deliveries_close_the_order(self):
        self.company.pico_public_url = self.base_url()
        self.company._pico_register_webhooks()
        self.sim.set_delivery_faults(duplicate=True, reorder=True)
        production = self.make_mo(self.sensor, 3)
        self.env["pico.message"]._cron_dispatch()
        for index in range(3):
            self.sim.complete_unit(production.pico_order_ref, "op-sensor-kit", index)
        self.assertEqual(self.deliver(), [200] * 6)
        family = production_family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(self.stock(self.sensor), 3)
        self.assertEqual(self.stock(self.screw), 997)

    def test_serial_product_through_the_webhook(self):
        self.company.pico_public_url = self.base_url()
        self.company._pico_register_webhooks()
        production = self.make_mo(self.lamp, 2)
        self.env["pico.message"]._cron_dispatch()
        for index in (1, 0):
            self.sim.complete_unit(
                production.pico_order_ref,
                "op-desk-lamp",
                index,
                produced_serial=f"WEB-LAMP-{index}",
                consumed_serials={"PICO-LED-DRIVER": self.driver_lots[index].name},
            )
        self.assertEqual(self.deliver(), [200, 200])
        family = production_family(production)
        self.assertEqual(set(family.mapped("state")), {"done"})
        self.assertEqual(
            sorted(compat.producing_lots(family).mapped("name")),
            ["WEB-LAMP-0", "WEB-LAMP-1"],
        )
