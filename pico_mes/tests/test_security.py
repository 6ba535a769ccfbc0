from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import PicoCommon, PicoTransactionCase, add_groups


@tagged("post_install", "-at_install")
class TestMessageAndUnitAreServerWritten(PicoTransactionCase):
    """Users and PICO managers read messages and units; only server code writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pico_manager = cls.mrp_user.copy({"login": "pico-security-manager"})
        add_groups(cls.pico_manager, "pico_mes.group_pico_manager")

    def setUp(self):
        super().setUp()
        self.production = self.make_mo(self.sensor, 2)
        self.message = self.messages(self.production)
        self.unit = self.production.pico_unit_ids[0]

    def test_nobody_rewrites_a_payload_or_a_state(self):
        for user in (self.pico_manager, self.mrp_user):
            message = self.message.with_user(user)
            unit = self.unit.with_user(user)
            with self.assertRaises(AccessError, msg=user.login):
                message.write({"payload": '{"inputs": []}'})
            with self.assertRaises(AccessError, msg=user.login):
                unit.write({"state": "done"})
            with self.assertRaises(AccessError, msg=user.login):
                unit.copy()
            with self.assertRaises(AccessError, msg=user.login):
                message.unlink()
        self.assertEqual(self.unit.state, "queued")
        self.assertEqual(self.message.payload.count("externalOrderId"), 2)

    def test_a_manager_reads_and_retries(self):
        self.message.write({"state": "failed", "error": "boom"})
        self.unit.write({"state": "failed"})
        message = self.message.with_user(self.pico_manager)
        self.assertEqual(message.read(["error"])[0]["error"], "boom")
        message.action_retry()
        self.assertEqual(self.message.state, "pending")
        self.assertEqual(self.unit.state, "queued")

    def test_a_manager_retries_from_the_order(self):
        self.message.write({"state": "failed", "error": "boom"})
        self.production.pico_error = "boom"
        self.production.with_user(self.pico_manager).action_pico_retry()
        self.assertEqual(self.message.state, "pending")
        self.assertFalse(self.production.pico_error)

    def test_a_manufacturing_user_cannot_retry(self):
        self.message.write({"state": "failed", "error": "boom"})
        with self.assertRaises(AccessError):
            self.message.with_user(self.mrp_user).action_retry()
        self.assertEqual(self.message.state, "failed")


@tagged("post_install", "-at_install")
class TestOverRpc(PicoCommon, HttpCase):
    """What a PICO manager's browser or script can do through JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.setup_pico()
        cls.pico_manager = cls.mrp_user.copy(
            {"login": "pico-rpc-manager", "password": "pico-rpc-manager"}
        )
        add_groups(cls.pico_manager, "pico_mes.group_pico_manager")

    def setUp(self):
        super().setUp()
        self.reset_simulator()

    def call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    @mute_logger("odoo.http")
    def test_manager_cannot_rewrite_but_can_retry(self):
        production = self.make_mo(self.sensor, 1)
        message = self.messages(production)
        message.write({"state": "failed", "error": "boom"})
        self.authenticate("pico-rpc-manager", "pico-rpc-manager")
        for model, record, values in (
            ("pico.message", message, {"payload": "{}", "state": "done"}),
            ("pico.unit", production.pico_unit_ids, {"state": "done"}),
            ("mrp.production", production, {"pico_order_ref": "X:WH/MO/1"}),
            ("mrp.production", production, {"pico_error": False}),
        ):
            with self.assertRaises(JsonRpcException) as caught:
                self.call(model, "write", record.ids, values)
            self.assertIn("AccessError", str(caught.exception))
        self.assertEqual(
            self.call("pico.message", "read", message.ids, ["error"])[0]["error"],
            "boom",
        )
        self.call("pico.message", "action_retry", message.ids)
        message.invalidate_recordset()
        self.assertEqual(message.state, "pending")
        self.assertIn("externalOrderId", message.payload)
