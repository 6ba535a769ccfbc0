"""Copies of the database, and two databases on one PICO.

The suite's database (A) is copied twice, as administrators do: B with Odoo's
own duplicate (a new database.uuid), C with ``createdb -T`` and ``odoo-bin
neutralize`` (the same database.uuid). Each copy runs on its own Odoo server.
A copy holds every call to PICO until an administrator confirms a new order
prefix; then A and B share one PICO, which delivers every completion to every
subscription, each to its own URL with its own secret: each database ignores
the other's completions, quietly."""

import subprocess
import sys

import pytest
from e2e.helpers import OdooRpc  # noqa: E402 -- tests/ is on the path (stack)

from demo.stack import Service

from .stack import (
    DB,
    ODOO_PORT,
    REPO,
    SENSOR_OP,
    Figures,
    _bash,
    wait_until,
)

COPY_PORT = ODOO_PORT - 4  # A's ports: ODOO_PORT down to ODOO_PORT - 3
UNSUBSCRIBE = (
    "mutation Unsubscribe($id: String!) { webhookUnsubscribe(subscriptionID: $id)"
    " { message } }"
)
ATTENTION = "pico_mes.mail_activity_pico_attention"


class Copy:
    """A copy of A on its own threaded Odoo server (no cron thread: the test
    runs crons itself), on COPY_PORT."""

    def __init__(self, stack, name):
        self.stack, self.db = stack, name
        self.conf = REPO / "var" / f"{name}.conf"
        self.log = REPO / "var" / f"{name}-odoo.log"
        config = stack.config
        command = [sys.executable, config.odoo_bin, "-c", str(self.conf)]
        command += ["-d", name, "--http-interface=127.0.0.1"]
        command += [f"--http-port={COPY_PORT}", f"--gevent-port={COPY_PORT - 1}"]
        command += ["--workers=0", "--max-cron-threads=0"]
        ready = f"http://127.0.0.1:{COPY_PORT}/web/health"
        self.server = Service(f"Odoo ({name})", command, COPY_PORT, ready, self.log)
        self.rpc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{COPY_PORT}"

    def start(self):
        _bash(
            f'source "{REPO}/bin/lib.sh" && require_odoo'
            f' && write_odoo_conf "{self.conf}" "{self.db}" {COPY_PORT}'
        )
        self.log.unlink(missing_ok=True)
        self.server.start()
        self.rpc = OdooRpc(self.url, self.db)
        return self

    def stop(self):
        self.server.stop()

    def log_lines(self):
        return self.log.read_text(errors="replace").splitlines()


def odoo_python(stack, script):
    """Run ``script`` in a Python that imports Odoo, configured as A's server."""
    odoo_dir = str((REPO / stack.config.odoo_bin).resolve().parent)
    prelude = (
        f"import sys; sys.path.insert(0, {odoo_dir!r})\n"
        "import odoo.tools\n"
        f"odoo.tools.config.parse_config(['-c', {str(stack.config.conf)!r}])\n"
        "odoo.tools.config['list_db'] = True  # the database manager's functions\n"
    )
    subprocess.run(
        [sys.executable, "-c", prelude + script], check=True, timeout=900, cwd=REPO
    )


@pytest.fixture(scope="module")
def copies(stack):
    """B (Odoo's duplicate) and C (createdb -T, then neutralize), made while A's
    server is stopped (a template database must have no connection)."""
    names = {"duplicate": f"{DB}_dup", "neutralized": f"{DB}_neutral"}
    for name in names.values():
        subprocess.run(["dropdb", "--if-exists", name], check=True)
    stack.odoo.stop()
    try:
        odoo_python(
            stack,
            "from odoo.service.db import exp_duplicate_database\n"
            f"exp_duplicate_database({DB!r}, {names['duplicate']!r})\n",
        )
        subprocess.run(["createdb", "-T", DB, names["neutralized"]], check=True)
        subprocess.run(
            [sys.executable, stack.config.odoo_bin, "neutralize", "-c",
             str(stack.config.conf), "-d", names["neutralized"]],
            check=True, timeout=600, cwd=REPO,
        )  # fmt: skip
    finally:
        stack.restart_odoo()
    made = {kind: Copy(stack, name) for kind, name in names.items()}
    yield made
    for copy in made.values():
        copy.stop()
    for subscription in stack.control.get("/control/subscriptions")["subscriptions"]:
        if not subscription["webhookUrl"].startswith(stack.config.odoo_url):
            graphql(stack, UNSUBSCRIBE, id=subscription["subscriptionID"])
    for name in names.values():
        subprocess.run(["dropdb", "--if-exists", name], check=False)


def graphql(stack, query, **variables):
    response = stack.control.session.post(
        stack.config.pico_api_url,
        json={"query": query, "variables": variables},
        timeout=30,
    )
    assert response.status_code == 200 and not response.json().get("errors"), (
        response.text
    )
    return response.json()["data"]


def subscriptions(stack):
    return {
        s["subscriptionID"]: s
        for s in stack.control.get("/control/subscriptions")["subscriptions"]
    }


def company_of(rpc):
    (company,) = rpc.search_read(
        "res.company",
        [("pico_enabled", "=", True)],
        ["pico_order_prefix", "pico_webhook_secret"],
    )
    return company


def settings(rpc, **values):
    """The settings form as an administrator opens it: (id, fields shown)."""
    settings_id = rpc.call("res.config.settings", "create", values)
    (shown,) = rpc.call(
        "res.config.settings",
        "read",
        [settings_id],
        [
            "pico_copy_hold_reason",
            "pico_new_order_prefix",
            "pico_order_prefix",
            "pico_foreign_count",
            "pico_foreign_prefixes",
        ],
    )
    return settings_id, shown


def press(rpc, settings_id, button):
    return rpc.call("res.config.settings", button, [settings_id])["params"]


def confirmed_mo(rpc, code, quantity):
    (product,) = rpc.search_read("product.product", [("default_code", "=", code)], [])
    (mo_id,) = rpc.call(
        "mrp.production",
        "create",
        [{"product_id": product["id"], "product_qty": quantity}],
    )
    rpc.call("mrp.production", "action_confirm", [mo_id])
    (mo,) = rpc.search_read(
        "mrp.production", [("id", "=", mo_id)], ["pico_order_ref", "state"]
    )
    return mo


def messages(rpc, ref, **filters):
    domain = [("order_ref", "=", ref)] + [(k, "=", v) for k, v in filters.items()]
    return rpc.search_read("pico.message", domain, ["state", "discard_reason"])


def dispatch(rpc):
    rpc.call(
        "ir.cron", "method_direct_trigger", [rpc.ref("pico_mes.ir_cron_pico_dispatch")]
    )


def test_a_duplicated_database_holds_pico_until_a_new_prefix_is_confirmed(
    stack, copies
):
    b = copies["duplicate"].start()
    production_prefix = company_of(stack.rpc)["pico_order_prefix"]
    production_subscriptions = subscriptions(stack)
    settings_id, shown = settings(b.rpc)
    assert "copy" in shown["pico_copy_hold_reason"], shown
    assert shown["pico_new_order_prefix"] not in (False, production_prefix), shown

    held = confirmed_mo(b.rpc, "PICO-SENSOR", 2)
    assert held["pico_order_ref"].startswith(f"{production_prefix}:")
    dispatch(b.rpc)
    answer = press(b.rpc, settings_id, "action_pico_register_webhooks")
    assert answer["type"] == "danger" and "copy" in answer["message"], answer
    assert [m["state"] for m in messages(b.rpc, held["pico_order_ref"])] == ["pending"]
    assert not stack.control.orders(held["pico_order_ref"])
    assert subscriptions(stack) == production_subscriptions

    # the administrator gives the copy its own address and confirms its prefix
    company = company_of(b.rpc)
    b.rpc.call("res.company", "write", [company["id"]], {"pico_public_url": b.url})
    settings_id, shown = settings(b.rpc)
    answer = press(b.rpc, settings_id, "action_pico_confirm_new_prefix")
    assert answer["type"] == "success", answer
    company = company_of(b.rpc)
    assert company["pico_order_prefix"] == shown["pico_new_order_prefix"]
    assert (
        company["pico_webhook_secret"] != company_of(stack.rpc)["pico_webhook_secret"]
    )
    after = subscriptions(stack)
    for subscription_id, subscription in production_subscriptions.items():
        assert after.pop(subscription_id) == subscription
    assert {s["webhookUrl"] for s in after.values()} == {f"{b.url}/pico_mes/webhook"}
    assert len(after) == 2
    (withheld,) = messages(b.rpc, held["pico_order_ref"])
    assert withheld["state"] == "discarded" and "copy" in withheld["discard_reason"]
    dispatch(b.rpc)
    assert not stack.control.orders(held["pico_order_ref"])


def test_two_databases_on_one_pico_ignore_each_others_completions(
    stack, copies, figures
):
    b = copies["duplicate"]
    assert b.server.running, "runs after the duplicate's confirmation"
    a_offset, b_offset = stack.log_offset(), len(b.log_lines())
    ignored_before = {
        "A": settings(stack.rpc)[1]["pico_foreign_count"],
        "B": settings(b.rpc)[1]["pico_foreign_count"],
    }
    orders = {"A": confirmed_mo(stack.rpc, "PICO-SENSOR", 2)}
    orders["B"] = confirmed_mo(b.rpc, "PICO-SENSOR", 2)
    dispatch(b.rpc)
    refs = {name: order["pico_order_ref"] for name, order in orders.items()}
    assert refs["A"].split(":")[0] != refs["B"].split(":")[0]
    wait_until(
        lambda: all(len(stack.control.orders(ref)) == 2 for ref in refs.values()),
        300,
        "both databases' units in PICO",
    )
    for ref in refs.values():
        for index in range(2):
            stack.control.complete(ref, SENSOR_OP, index)
    rpcs = {"A": stack.rpc, "B": b.rpc}

    def produced():
        return all(
            rpcs[name].search_read(
                "mrp.production", [("pico_order_ref", "=", ref)], ["state"]
            )[0]["state"] == "done"
            and not rpcs[name].search_read(
                "pico.message",
                [("order_ref", "=", ref), ("state", "=", "pending")],
                ["id"],
            )
            for name, ref in refs.items()
        )  # fmt: skip

    wait_until(produced, 300, "each database produced its own order", interval=2)

    def these_deliveries():
        return [
            d
            for d in stack.control.get("/control/deliveries")["deliveries"]
            if (d["body"].get("data") or {})
            .get("operationOrderCompletesStream", {})
            .get("externalOrderId")
            in refs.values()
        ]

    wait_until(
        lambda: all(d["attempts"] for d in these_deliveries()),
        120,
        "PICO delivered every completion to both databases",
    )
    deliveries = these_deliveries()
    statuses = [d["lastStatus"] for d in deliveries]
    ignored = {
        "A": settings(stack.rpc)[1]["pico_foreign_count"] - ignored_before["A"],
        "B": settings(b.rpc)[1]["pico_foreign_count"] - ignored_before["B"],
    }
    figures(
        Figures(
            "two databases, one PICO",
            sent=len(deliveries),
            accepted=len(deliveries) - sum(ignored.values()),
            applied=len(deliveries) - sum(ignored.values()),
            extra={"ignored per database": ignored, "statuses": set(statuses)},
        )
    )
    # each completion to each database's subscription, each answered 200
    assert len(deliveries) == 8, deliveries
    assert {d["state"] for d in deliveries} == {"delivered"}, deliveries
    assert set(statuses) == {200}, statuses
    assert ignored == {"A": 2, "B": 2}, ignored
    for name, other in (("A", "B"), ("B", "A")):
        foreign = rpcs[name].search_read(
            "pico.message",
            [("direction", "=", "in"), ("order_ref", "=", refs[other])],
            ["state"],
        )
        assert not foreign, (name, foreign)
        activities = rpcs[name].search_read(
            "mail.activity",
            [("activity_type_id", "=", rpcs[name].ref(ATTENTION))],
            ["res_id"],
        )
        assert not activities, (name, activities)
    warnings = [
        line
        for line in stack.log_lines_since(a_offset) + b.log_lines()[b_offset:]
        if (" WARNING " in line or " ERROR " in line)
        and any(ref.split(":")[0] in line for ref in refs.values())
    ]
    assert not warnings, warnings[:5]


def test_a_neutralized_copy_never_uses_production_ids(stack, copies):
    copies["duplicate"].stop()
    c = copies["neutralized"].start()
    production = company_of(stack.rpc)
    (company,) = c.rpc.search_read(
        "res.company", [("id", "=", production["id"])], ["pico_enabled"]
    )
    assert not company["pico_enabled"]
    # the administrator points the staging copy at a PICO again
    c.rpc.call(
        "res.company",
        "write",
        [company["id"]],
        {
            "pico_enabled": True,
            "pico_api_token": stack.config.token,
            "pico_public_url": c.url,
        },
    )
    settings_id, shown = settings(c.rpc)
    assert "neutralized" in shown["pico_copy_hold_reason"], shown
    held = confirmed_mo(c.rpc, "PICO-SENSOR", 1)
    dispatch(c.rpc)
    # its reference may well be one of A's by now (the same MO sequence)
    assert [m["state"] for m in messages(c.rpc, held["pico_order_ref"])] == ["pending"]
    before = subscriptions(stack)
    settings_id, _shown = settings(
        c.rpc, pico_new_order_prefix=production["pico_order_prefix"]
    )
    with pytest.raises(Exception, match="production"):
        press(c.rpc, settings_id, "action_pico_confirm_new_prefix")
    settings_id, shown = settings(c.rpc)
    assert shown["pico_new_order_prefix"] != production["pico_order_prefix"]
    assert press(c.rpc, settings_id, "action_pico_confirm_new_prefix")["type"] == (
        "success"
    )
    new = set(subscriptions(stack)) - set(before)
    assert len(new) == 2, new  # production's (same database.uuid) are not reused
    order = confirmed_mo(c.rpc, "PICO-SENSOR", 1)
    dispatch(c.rpc)
    assert order["pico_order_ref"].startswith(f"{shown['pico_new_order_prefix']}:")
    assert len(stack.control.orders(order["pico_order_ref"])) == 1
    (withheld,) = messages(c.rpc, held["pico_order_ref"])
    assert withheld["state"] == "discarded", withheld
