"""Smoke case: roles on the production-shaped (prefork) server, as real users over
JSON-RPC. The whole role matrix is ``pico_mes/tests/test_access.py``."""

import pytest
from e2e.helpers import OdooRpc, OdooRpcError

ENGINE_ONLY = "set by the PICO connector only"


def real_user(stack, login, group):
    """A user in exactly ``group`` (password = login); kept across reused runs."""
    admin = stack.rpc
    if not admin.search_read("res.users", [("login", "=", login)], ["id"]):
        fields = admin.call("res.users", "fields_get", [], attributes=["type"])
        groups_field = "group_ids" if "group_ids" in fields else "groups_id"
        admin.call(
            "res.users",
            "create",
            {
                "name": login,
                "login": login,
                "password": login,
                "email": f"{login}@example.com",
                groups_field: [(6, 0, [admin.ref(group)])],
            },
        )
    return OdooRpc(stack.config.odoo_url, stack.config.db, login, login)


def test_roles_over_json_rpc_on_the_prefork_server(stack):
    operator = real_user(stack, "rely-mrp-user", "mrp.group_mrp_user")
    manager = real_user(stack, "rely-pico-manager", "pico_mes.group_pico_manager")

    (production_id,) = operator.call(
        "mrp.production",
        "create",
        [{"product_id": stack.product("PICO-SENSOR"), "product_qty": 1}],
    )
    operator.call("mrp.production", "action_confirm", [production_id])
    (order,) = operator.search_read(
        "mrp.production", [("id", "=", production_id)], ["name", "pico_order_ref"]
    )
    assert order["pico_order_ref"].endswith(f":{order['name']}")
    for values in ({"pico_order_ref": "HIJACKED:1"}, {"pico_error": False}):
        with pytest.raises(OdooRpcError, match=ENGINE_ONLY):
            operator.call("mrp.production", "write", [production_id], values)
    operator.call("mrp.production", "action_cancel", [production_id])
    (order,) = operator.search_read(
        "mrp.production", [("id", "=", production_id)], ["pico_order_ref", "state"]
    )
    assert order["state"] == "cancel"
    assert not order["pico_order_ref"].startswith("HIJACKED")

    action = manager.call("pico.connection", "action_pico_sync_operations", [])
    assert action["params"]["type"] == "success", action
    with pytest.raises(OdooRpcError, match="pico_api_token"):
        manager.call("res.company", "read", [1], ["pico_api_token"])
    with pytest.raises(OdooRpcError, match="Settings administrators"):
        operator.call("pico.connection", "action_pico_sync_operations", [])
