"""JSON-RPC as external scripts use it: ``/jsonrpc``, ``execute_kw``, a real
login with a password on every call. For HttpCase tests."""

import json


class RpcRefused(Exception):
    """The server answered with an error: ``name`` is the exception's class path."""

    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class JsonRpcMixin:
    """``self.rpc(login, model, method, *args, **kwargs)`` as ``login`` (password =
    login, as ``make_user`` sets it); ``self.assert_refused(...)`` for a refusal."""

    def jsonrpc(self, service, method, *args):
        self.env.flush_all()  # the request shares the test's transaction
        response = self.url_open(
            "/jsonrpc",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {"service": service, "method": method, "args": args},
                }
            ),
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
        self.env.invalidate_all()
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            data = body["error"]["data"]
            raise RpcRefused(data["name"], data["message"])
        return body.get("result")  # None is sent as no "result" at all

    def rpc(self, login, model, method, *args, **kwargs):
        database = self.env.cr.dbname
        uid = self.jsonrpc("common", "login", database, login, login)
        self.assertTrue(uid, f"{login} cannot log in")
        return self.jsonrpc(
            "object", "execute_kw", database, uid, login, model, method, args, kwargs
        )

    def assert_refused(self, login, model, method, *args, **kwargs):
        """The call is refused with an AccessError; returns its message."""
        with self.assertRaises(RpcRefused, msg=f"{login}: {model}.{method}") as caught:
            self.rpc(login, model, method, *args, **kwargs)
        self.assertEqual(
            caught.exception.name,
            "odoo.exceptions.AccessError",
            f"{login}: {model}.{method}: {caught.exception.message}",
        )
        return caught.exception.message
