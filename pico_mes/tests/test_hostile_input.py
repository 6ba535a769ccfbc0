import json
import secrets

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import PicoCommon, production_family

ROUTE = "/pico_mes/webhook"
HEADER = "X-Pico-Webhook-Secret"


@tagged("post_install", "-at_install")
class TestHostileInput(PicoCommon, HttpCase):
    """Whatever reaches the webhook gets a 4xx or a 2xx, never a 5xx, and bad
    input changes nothing: no message, no stock, no echo of the secret."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        cls.secret = cls.company._pico_webhook_secret()

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def post(self, data, headers=None):
        headers = dict(
            {"Content-Type": "application/json", HEADER: self.secret}, **(headers or {})
        )
        if not isinstance(data, (str, bytes)):
            data = json.dumps(data)
        response = self.url_open(ROUTE, data=data, headers=headers)
        self.assertNotIn(self.secret, response.text)
        self.assertNotIn("Traceback", response.text)
        return response

    def completion(self, ref="WH/MO/NOPE", index=0, **changes):
        event = {
            "externalOrderId": ref,
            "operation": {"id": "op-sensor-kit"},
            "orderIndex": index,
            "at": "2026-01-01T10:00:00Z",
            "operationSummary": {"consumedSerials": []},
        }
        event.update(changes)
        return event

    def assert_refused(self, response, status=400):
        self.assertEqual(response.status_code, status, response.text)
        self.env.invalidate_all()
        self.assertFalse(self.env["pico.message"].search([("direction", "=", "in")]))
        self.assertEqual(self.stock(self.sensor), 0)
        self.assertEqual(self.stock(self.screw), 1000)

    def sensor_order(self, quantity=2):
        production = self.make_mo(self.sensor, quantity)
        self.env["pico.message"]._cron_dispatch()
        self.env.flush_all()
        return production

    @mute_logger("odoo.addons.pico_mes.controllers.webhook")
    def test_non_ascii_secret_is_401(self):
        for secret in ("sécret".encode(), "秘密".encode(), b"\xff\xfe"):
            response = self.post(self.completion(), headers={HEADER: secret})
            self.assert_refused(response, 401)

    def test_nul_characters_are_400(self):
        for event in (
            self.completion(ref="WH/MO/\x001"),
            self.completion(endState={"station": {"name": "St\x00ation"}}),
            self.completion(extra={"note": "a\x00b"}),
        ):
            response = self.post(event)
            self.assert_refused(response)
            self.assertIn("NUL", " ".join(response.json()["problems"]))

    def test_lone_surrogates_are_400(self):
        for text in ('"WH/MO/\\ud800"', '"\\udfff"'):
            body = json.dumps(self.completion()).replace('"WH/MO/NOPE"', text)
            response = self.post(body)
            self.assert_refused(response)
            self.assertIn("surrogate", " ".join(response.json()["problems"]))

    def test_strings_longer_than_an_index_allows_are_400(self):
        long_id = secrets.token_urlsafe(8000)  # PostgreSQL cannot compress it
        for event in (
            self.completion(ref=long_id),
            self.completion(operation={"id": long_id}),
            self.completion(reservedSerialNumber=long_id),
            self.completion(
                operationSummary={
                    "consumedSerials": [
                        {"id": "a", "externalId": "P", "value": long_id}
                    ]
                }
            ),
        ):
            response = self.post(event)
            self.assert_refused(response)
            self.assertIn("longer than", " ".join(response.json()["problems"]))

    def test_out_of_range_numbers_and_dates_are_400(self):
        for event in (
            self.completion(index=2**40),
            self.completion(at="0001-01-01T00:00:00+05:00"),
            self.completion(at="9999-12-31T23:59:59-05:00"),
            self.completion(operationSummary={"cycleTime": 10**30}),
        ):
            self.assert_refused(self.post(event))
        huge = json.dumps(self.completion()).replace(
            '"orderIndex": 0', '"orderIndex": ' + "9" * 5000
        )
        self.assert_refused(self.post(huge))

    def test_deeply_nested_json_is_400(self):
        for depth in (100000, 900, 40):
            nested = "[" * depth + "]" * depth
            body = json.dumps(self.completion(extra="NESTED")).replace(
                '"NESTED"', nested
            )
            self.assert_refused(self.post(body))

    def test_invalid_utf8_is_400(self):
        self.assert_refused(self.post(b'{"externalOrderId": "\xff\xfe"}'))

    def test_order_index_null_is_the_first_unit(self):
        """PICO's schema makes orderIndex nullable; PICO keys a null index as 0."""
        production = self.sensor_order()
        response = self.post(self.completion(production.pico_order_ref, index=None))
        self.assertEqual(response.status_code, 200, response.text)
        self.env.invalidate_all()
        units = production_family(production).pico_unit_ids
        self.assertEqual(units.sorted("order_index").mapped("state"), ["done", "sent"])
        self.assertEqual(self.stock(self.sensor), 1)

    def test_one_bad_item_in_a_list_keeps_the_good_ones(self):
        production = self.sensor_order()
        ref = production.pico_order_ref
        body = [
            self.completion(ref, index=0),
            self.completion(ref, index="one"),
            self.completion(ref, index=1, at="yesterday"),
        ]
        response = self.post(body)
        self.assertEqual(response.status_code, 400, response.text)
        answer = response.json()
        self.assertEqual(answer["accepted"], 1)
        self.assertEqual(
            answer["problems"],
            [
                "event 1: orderIndex must be a non-negative integer",
                "event 2: at must be an RFC 3339 date-time",
            ],
        )
        self.env.invalidate_all()
        self.assertEqual(
            len(self.env["pico.message"].search([("direction", "=", "in")])), 1
        )
        self.assertEqual(self.stock(self.sensor), 1)
        response = self.post(body)  # PICO retries: the good item is a duplicate
        self.assertEqual(response.json()["duplicates"], 1)
        self.assertEqual(self.stock(self.sensor), 1)
