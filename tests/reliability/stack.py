"""Odoo as production runs it (prefork: two HTTP workers and a cron worker) on
its own database, the PICO simulator over HTTP, and the tools the cases share:
sizes, completion events, concurrent senders, checks over JSON-RPC, figures.

Sizes: ``PICO_RELIABILITY=full`` runs the sizes of issue 9; otherwise the CI
sizes. ``PICO_RELIABILITY_<NAME>=n`` overrides one size (see ``SIZES``).
"""

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty, Queue

import requests

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from e2e.helpers import OdooRpc, PicoControl, wait_until  # noqa: E402

from demo.stack import DemoConfig, Service, simulator  # noqa: E402

from .proxy import FaultProxy  # noqa: E402

DB = os.environ.get("PICO_RELIABILITY_DB", "pico_reliability")
ODOO_PORT = int(os.environ.get("PICO_RELIABILITY_PORT", "8089"))
GEVENT_PORT, SIM_PORT, PROXY_PORT = ODOO_PORT - 1, ODOO_PORT - 2, ODOO_PORT - 3
# the second Odoo node of the two-node case, and the load balancer in front of
# both (ODOO_PORT - 4 and - 5 are test_neighbours.py's)
NODE2_PORT = int(os.environ.get("PICO_RELIABILITY_NODE2_PORT", ODOO_PORT - 7))
NODE2_GEVENT_PORT = int(
    os.environ.get("PICO_RELIABILITY_NODE2_GEVENT_PORT", NODE2_PORT - 1)
)
BALANCER_PORT = int(os.environ.get("PICO_RELIABILITY_BALANCER_PORT", ODOO_PORT - 6))
WEBHOOK_ROUTE = "/pico_mes/webhook"
SECRET_HEADER = "X-Pico-Webhook-Secret"
LAMP_OP, SENSOR_OP = "op-desk-lamp", "op-sensor-kit"
DRIVER_ATTRIBUTE = "attr-led-driver"

FULL = os.environ.get("PICO_RELIABILITY", "").lower() == "full"
# name: (CI size, full size of issue 9)
SIZES = {
    "LOAD_COMPLETIONS": (100, 2000),
    "LOAD_MOS": (10, 200),
    "SENDERS": (8, 8),
    "OUTBOUND_MOS": (40, 500),
    "KILL_COMPLETIONS": (60, 600),
    "MISSED_COMPLETIONS": (40, 300),
    "HOSTILE_EXAMPLES": (300, 3000),
    "GROWTH_UNITS": (60, 500),
    "TWO_NODES_COMPLETIONS": (120, 2000),
    "TWO_NODES_MOS": (12, 200),
    "CRON_BACKLOG": (160, 600),
}


def size(name):
    ci, full = SIZES[name]
    return int(os.environ.get(f"PICO_RELIABILITY_{name}", full if FULL else ci))


def driver_serials_needed():
    """Serials of the tracked component the cases consume (half are lamps)."""
    names = (
        "LOAD_COMPLETIONS",
        "KILL_COMPLETIONS",
        "MISSED_COMPLETIONS",
        "TWO_NODES_COMPLETIONS",
        "CRON_BACKLOG",
    )
    return sum(size(n) for n in names) + 100


# --------------------------------------------------------------------- servers


def odoo_bin():
    if os.environ.get("ODOO_BIN"):
        return os.environ["ODOO_BIN"]
    script = f'source "{REPO}/bin/lib.sh" && require_odoo && printf %s "$ODOO_BIN"'
    return _bash(script)


def _bash(script, timeout=300):
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True,
        timeout=timeout,
    ).stdout  # fmt: skip


LIMITS = ("--limit-time-real=600", "--limit-time-cpu=600")


def prefork_odoo(config, port=None, gevent_port=GEVENT_PORT, log="odoo", options=()):
    """Odoo with ``--workers=2 --max-cron-threads=1``: one process group.
    ``options`` come last: they override the workers and the time limits."""
    port = port or config.odoo_port
    command = [sys.executable, config.odoo_bin, "-c", str(config.conf)]
    command += ["-d", config.db, "--http-interface=127.0.0.1"]
    command += [f"--http-port={port}", f"--gevent-port={gevent_port}"]
    command += ["--workers=2", "--max-cron-threads=1", *LIMITS, *options]
    ready = f"http://127.0.0.1:{port}/web/health"
    return Service(f"Odoo (prefork, {log})", command, port, ready, config.log(log))


class Node:
    """One more Odoo server on the suite's database (and filestore): a node of
    the cluster, with its own port, processes and log."""

    def __init__(self, stack, port, gevent_port, log, options=()):
        self.stack, self.port = stack, port
        self.service = prefork_odoo(stack.config, port, gevent_port, log, options)
        self.url = f"http://localhost:{port}"

    @property
    def log_path(self):
        return self.service.log

    def start(self):
        self.log_path.unlink(missing_ok=True)
        self.service.start()
        self.rpc = OdooRpc(self.url, self.stack.config.db)
        return self

    def stop(self):
        self.service.stop()

    @property
    def webhook_url(self):
        return f"{self.url}{WEBHOOK_ROUTE}"

    def log_offset(self):
        return log_offset(self.log_path)

    def log_errors_since(self, offset):
        return log_errors_since(self.log_path, offset)

    def log_lines_since(self, offset, *texts):
        return log_lines_since(self.log_path, offset, *texts)


def log_offset(path):
    return path.stat().st_size if path.exists() else 0


def log_lines_since(path, offset, *texts):
    """The log's lines from ``offset``; with ``texts``, those that contain one
    of them (cut at 300 characters)."""
    with path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode(errors="replace").splitlines()
    if not texts:
        return lines
    return [line[:300] for line in lines if any(t in line for t in texts)]


def log_errors_since(path, offset):
    return log_lines_since(path, offset, " ERROR ", " CRITICAL ")


class Stack:
    """The servers of the suite, built once per session."""

    def __init__(self):
        self.config = DemoConfig(
            odoo_bin=odoo_bin(),
            conf=REPO / "var" / f"{DB}.conf",
            db=DB,
            odoo_port=ODOO_PORT,
            sim_port=SIM_PORT,
            auto_build=0,
        )
        self.odoo = prefork_odoo(self.config)
        self.pico = simulator(self.config, auto_build=0, retry_base=3600)
        self.proxy = FaultProxy(PROXY_PORT, self.config.sim_url)
        self._serial_lock = threading.Lock()
        self._next_serial = 0

    # -- life cycle

    def build(self):
        """A new database and simulator state; ``PICO_RELIABILITY_REUSE=1`` keeps
        the last ones (faster while writing a case)."""
        self.proxy.start()
        if os.environ.get("PICO_RELIABILITY_REUSE") and self.config.conf.exists():
            return self._start()
        conf, db = self.config.conf, self.config.db
        _bash(
            f'source "{REPO}/bin/lib.sh" && require_odoo && start_postgres >&2'
            f' && write_odoo_conf "{conf}" "{db}" {self.config.odoo_port}'
        )
        subprocess.run(["dropdb", "--if-exists", db], check=True)
        for path in (self.config.sim_state, self.config.log("odoo")):
            path.unlink(missing_ok=True)
        self._odoo_cli("-i", "pico_mes", "--stop-after-init")
        self.pico.start()
        self._load_data()
        return self._start()

    def _start(self):
        if not self.pico.running:
            self.pico.start()
        self.odoo.start()
        db = self.config.db
        self.rpc = OdooRpc(self.config.odoo_url, db)
        self.control = PicoControl(self.config.sim_url, self.config.token)
        (company,) = self.rpc.search_read(
            "res.company", [("pico_enabled", "=", True)], ["pico_webhook_secret"]
        )
        self.secret = company["pico_webhook_secret"]
        self.rpc.call(
            "res.company", "write", [company["id"]], {"pico_api_url": self.pico_api_url}
        )
        used = self.rpc.search_read(
            "stock.move.line",
            [("lot_id.name", "=like", "RELY-DRV-%"), ("state", "=", "done"),
             ("location_dest_id.usage", "=", "production")],
            ["lot_id"],
        )  # fmt: skip
        self._next_serial = 1 + max(
            (int(row["lot_id"][1].rsplit("-", 1)[1]) for row in used), default=-1
        )
        return self

    def _odoo_cli(self, *arguments, subcommand=(), script=None, env=None):
        command = [sys.executable, self.config.odoo_bin, *subcommand]
        command += ["-c", str(self.config.conf), "-d", self.config.db]
        command += [*arguments, "--log-level=warn", "--no-http"]
        subprocess.run(
            command, input=script, text=True, check=True, timeout=1800, cwd=REPO,
            env={**os.environ, **(env or {})},
        )  # fmt: skip

    def _load_data(self):
        path = Path(__file__).with_name("data.py")
        script = (
            f"exec(compile(open({str(path)!r}).read(), {str(path)!r}, 'exec'))\n"
            f"load(env, {self.pico_api_url!r}, {self.config.token!r},"
            f" {self.config.odoo_url!r}, {driver_serials_needed()})\n"
        )
        self._odoo_cli(subcommand=["shell"], script=script)

    @property
    def port(self):
        return self.config.odoo_port

    @property
    def url(self):
        return self.config.odoo_url

    @property
    def pico_api_url(self):
        """Odoo reaches PICO through the fault proxy."""
        return f"{self.proxy.url}/graph/v2"

    def stop(self):
        self.odoo.stop()
        self.pico.stop()
        self.proxy.stop()

    def kill_odoo(self):
        """SIGKILL the whole prefork process group, as the OOM killer would."""
        os.killpg(self.odoo.process.pid, signal.SIGKILL)
        self.odoo.process.wait(30)

    def restart_odoo(self):
        wait_until(lambda: not _port_busy(self.config.odoo_port), 60, "port freed")
        self.odoo.start()

    def node(self, port=NODE2_PORT, gevent_port=NODE2_GEVENT_PORT, options=()):
        """Another Odoo server on this database, not started."""
        return Node(self, port, gevent_port, f"odoo-{port}", options)

    # -- the server log

    def log_offset(self):
        return log_offset(self.config.log("odoo"))

    def log_lines_since(self, offset, *texts, log=None):
        return log_lines_since(log or self.config.log("odoo"), offset, *texts)

    def log_errors_since(self, offset):
        return log_errors_since(self.config.log("odoo"), offset)

    # -- webhook

    @property
    def webhook_url(self):
        return f"{self.config.odoo_url}{WEBHOOK_ROUTE}"

    def post(self, body, session=None, timeout=120, url=None):
        """POST one event as PICO does (to ``url``, else to this node's
        webhook); (status, answer as dict)."""
        session = session or requests
        response = session.post(
            url or self.webhook_url,
            data=json.dumps(body),
            headers={SECRET_HEADER: self.secret, "Content-Type": "application/json"},
            timeout=timeout,
        )
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return response.status_code, answer

    # -- Odoo data

    def product(self, code):
        (product,) = self.rpc.search_read(
            "product.product", [("default_code", "=", code)], ["id"]
        )
        return product["id"]

    def driver_serials(self, count):
        from .data import driver_serial

        with self._serial_lock:
            first, self._next_serial = self._next_serial, self._next_serial + count
        return [driver_serial(n) for n in range(first, first + count)]

    def confirmed_mos(self, quantities, rpc=None):
        """Create and confirm MOs: {product code: [quantity, ...]} -> [(ref, code, qty)];
        through ``rpc`` (a node's), else this node."""
        rpc = rpc or self.rpc
        vals, codes = [], []
        for code, qtys in quantities.items():
            product_id = self.product(code)
            for qty in qtys:
                vals.append({"product_id": product_id, "product_qty": qty})
                codes.append((code, qty))
        ids = rpc.call("mrp.production", "create", vals)
        for start in range(0, len(ids), 50):
            rpc.call("mrp.production", "action_confirm", ids[start : start + 50])
        rows = {
            row["id"]: row["pico_order_ref"]
            for row in rpc.search_read(
                "mrp.production", [("id", "in", ids)], ["pico_order_ref"]
            )
        }
        refs = [(rows[i], code, qty) for i, (code, qty) in zip(ids, codes, strict=True)]
        assert all(ref for ref, _c, _q in refs), "confirmed MOs without a PICO order"
        return ids, refs

    def qty_available(self, codes):
        rows = self.rpc.search_read(
            "product.product", [("default_code", "in", codes)],
            ["default_code", "qty_available"],
        )  # fmt: skip
        return {row["default_code"]: row["qty_available"] for row in rows}

    def trigger_cron(self, xmlid, busy_ok=False, rpc=None):
        """Run a cron now, in an HTTP worker (of the node of ``rpc``), as an
        administrator would. When a cron worker is running it already, wait
        (or, ``busy_ok``, return)."""
        rpc = rpc or self.rpc
        cron_id = rpc.ref(xmlid)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                return rpc.call("ir.cron", "method_direct_trigger", [cron_id])
            except Exception as exc:
                # Odoo 18.0's words, then 19.0's
                busy = ("currently being executed", "already executing")
                if not any(words in str(exc) for words in busy):
                    raise
                if busy_ok:
                    return None
                time.sleep(2)
        raise AssertionError(f"could not run {xmlid}: the cron worker holds it")

    def inbound_settled(self, timeout):
        """Wait until no inbound message is pending (the cron finishes the rest)."""

        def settled():
            return not self.rpc.call(
                "pico.message", "search_count",
                [("direction", "=", "in"), ("state", "=", "pending")],
            )  # fmt: skip

        wait_until(settled, timeout, "every inbound message processed", interval=2)

    def sql(self, query, **variables):
        """SQL run by psql (time travel for back-offs, reads while Odoo is
        down); ``:'name'`` in the query is the value of ``name``."""
        command = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", self.config.db]
        for name, value in variables.items():
            command += ["-v", f"{name}={value}"]
        return subprocess.run(
            command, input=query, capture_output=True, text=True, check=True,
            timeout=60,
        ).stdout  # fmt: skip


def _port_busy(port):
    from demo.stack import port_in_use

    return port_in_use(port)


# ------------------------------------------------------------------- events


def iso(moment):
    return (
        moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def completion(ref, operation, index, produced=None, consumed=(), at=None):
    """A completion webhook body as PICO shapes it for our subscription."""
    at = at or datetime.now(UTC)
    event = {
        "externalOrderId": ref,
        "operation": {"id": operation},
        "orderIndex": index,
        "at": iso(at),
        "reservedSerialNumber": None,
        "endState": {
            "producedSerial": produced,
            "station": {"name": "Station 1"},
            "operator": {"name": "Operator 1"},
        },
        "operationSummary": {
            "startedAt": iso(at - timedelta(minutes=1)),
            "cycleTime": 60000,
            "consumedSerials": [
                {"id": DRIVER_ATTRIBUTE, "externalId": "PICO-LED-DRIVER", "value": s}
                for s in consumed
            ],
        },
    }
    return {"data": {"operationOrderCompletesStream": event}}


def event_key(body):
    event = body["data"]["operationOrderCompletesStream"]
    return (
        f"{event['externalOrderId']}|{event['operation']['id']}|{event['orderIndex']}"
    )


def produced_serial(ref, index):
    return f"RELY-{ref.replace('/', '-')}-{index:04d}"


def unit_events(stack, refs):
    """One completion per unit of each MO [(ref, code, qty)], units interleaved
    across MOs as a floor builds them; lamps consume one new driver serial."""
    per_mo = []
    for ref, code, qty in refs:
        if code == "PICO-LAMP":
            serials = stack.driver_serials(qty)
            per_mo.append(
                [
                    completion(ref, LAMP_OP, i, produced_serial(ref, i), [serials[i]])
                    for i in range(qty)
                ]
            )
        else:
            per_mo.append([completion(ref, SENSOR_OP, i) for i in range(qty)])
    events = []
    for position in range(max(len(e) for e in per_mo)):
        events += [e[position] for e in per_mo if position < len(e)]
    return events


def delivery_plan(events, duplicates=0.2, out_of_order=0.1, seed=9):
    """PICO's deliveries: ``duplicates`` of the events again, later, and
    ``out_of_order`` of the events swapped with a later one."""
    rng = random.Random(seed)
    plan = list(events)
    for _i in range(int(len(events) * out_of_order)):
        a = rng.randrange(len(plan) - 1)
        b = rng.randrange(a + 1, min(len(plan), a + 40))
        plan[a], plan[b] = plan[b], plan[a]
    for original in rng.sample(events, int(len(events) * duplicates)):
        after = plan.index(original)
        plan.insert(rng.randrange(after + 1, len(plan) + 1), original)
    return plan


@dataclass
class Deliveries:
    """What the senders saw: HTTP statuses and the webhook's answers."""

    statuses: dict = field(default_factory=dict)
    accepted: int = 0
    duplicates: int = 0
    answered: set = field(default_factory=set)  # keys answered 200
    unanswered: list = field(default_factory=list)  # bodies with no answer
    server_errors: list = field(default_factory=list)
    by_url: dict = field(default_factory=dict)  # deliveries per webhook URL
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, body, status, answer, url=None):
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.by_url[url] = self.by_url.get(url, 0) + 1
            if status == 200:
                self.accepted += answer.get("accepted", 0)
                self.duplicates += answer.get("duplicates", 0)
                self.answered.add(event_key(body))
            elif status is None:
                self.unanswered.append(body)
            if status is not None and status >= 500:
                self.server_errors.append((status, event_key(body), answer))

    @property
    def sent(self):
        return sum(self.statuses.values())


def send_concurrently(stack, plan, senders, stop=None, deliveries=None, urls=None):
    """POST the plan with ``senders`` threads; a refused connection or a timeout
    is recorded as unanswered (status None). ``stop`` (an Event) ends early.
    ``urls``: the webhook URLs of several nodes, taken in turn (round robin)."""
    deliveries = deliveries or Deliveries()
    urls = urls or [stack.webhook_url]
    queue = Queue()
    for position, body in enumerate(plan):
        queue.put((urls[position % len(urls)], body))

    def sender():
        session = requests.Session()
        while not (stop and stop.is_set()):
            try:
                url, body = queue.get_nowait()
            except Empty:
                return
            try:
                status, answer = stack.post(body, session, url=url)
            except requests.RequestException:
                status, answer = None, {}
            deliveries.record(body, status, answer, url)

    start = time.perf_counter()
    threads = [threading.Thread(target=sender) for _i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    deliveries.seconds += time.perf_counter() - start
    while not queue.empty():  # stopped early: never sent
        deliveries.unanswered.append(queue.get_nowait()[1])
    return deliveries


# ------------------------------------------------------------------- checks


def units_by_key(stack, refs):
    rows = stack.rpc.search_read(
        "pico.unit", [("external_order_id", "in", refs)],
        ["external_order_id", "operation_pico_id", "order_index", "state",
         "production_id", "lot_id"],
    )  # fmt: skip
    return {
        f"{r['external_order_id']}|{r['operation_pico_id']}|{r['order_index']}": r
        for r in rows
    }


def messages_by_key(stack, keys):
    rows = stack.rpc.search_read(
        "pico.message",
        [("direction", "=", "in"), ("kind", "=", "completion"),
         ("dedup_key", "in", list(keys))],
        ["dedup_key", "state", "error"],
    )  # fmt: skip
    return {r["dedup_key"]: r for r in rows}


def produced_by_ref(stack, refs, product_ids):
    """Finished quantity moved to stock per PICO order (backorders included)."""
    rows = stack.rpc.search_read(
        "stock.move",
        [("production_id.pico_order_ref", "in", refs), ("state", "=", "done"),
         ("product_id", "in", product_ids)],
        ["production_id", "quantity"],
    )  # fmt: skip
    productions = {
        row["id"]: row["pico_order_ref"]
        for row in stack.rpc.search_read(
            "mrp.production", [("pico_order_ref", "in", refs)], ["pico_order_ref"]
        )
    }
    result = dict.fromkeys(refs, 0.0)
    for row in rows:
        result[productions[row["production_id"][0]]] += row["quantity"]
    return result


def consumed_lots(stack, serials):
    """{serial: times consumed by a done production move line}."""
    rows = stack.rpc.search_read(
        "stock.move.line",
        [("lot_id.name", "in", serials), ("state", "=", "done"),
         ("move_id.raw_material_production_id", "!=", False)],
        ["lot_id", "quantity"],
    )  # fmt: skip
    result = dict.fromkeys(serials, 0)
    for row in rows:
        result[row["lot_id"][1]] += row["quantity"]
    return result


def finished_quants(stack, serials):
    """{serial: quantity in internal locations}."""
    rows = stack.rpc.search_read(
        "stock.quant",
        [("lot_id.name", "in", serials), ("location_id.usage", "=", "internal")],
        ["lot_id", "quantity"],
    )  # fmt: skip
    result = dict.fromkeys(serials, 0.0)
    for row in rows:
        result[row["lot_id"][1]] += row["quantity"]
    return result


def open_productions(stack, refs):
    return stack.rpc.search_read(
        "mrp.production",
        [("pico_order_ref", "in", refs), ("state", "not in", ["done", "cancel"])],
        ["name", "state", "pico_error"],
    )


def lamp_serials(events):
    produced, consumed = [], []
    for body in events:
        event = body["data"]["operationOrderCompletesStream"]
        if event["operation"]["id"] == LAMP_OP:
            produced.append(event["endState"]["producedSerial"])
            consumed += [
                c["value"] for c in event["operationSummary"]["consumedSerials"]
            ]
    return produced, consumed


def expected_component_use(refs_units):
    """{code: quantity} the BoMs consume for (code, units) pairs."""
    boms = {
        "PICO-LAMP": {"PICO-LED-DRIVER": 1, "RELY-SCREW": 2},
        "PICO-SENSOR": {"RELY-BOARD": 1, "RELY-SCREW": 4},
    }
    use = {"PICO-LED-DRIVER": 0, "RELY-SCREW": 0, "RELY-BOARD": 0}
    for code, units in refs_units:
        for component, qty in boms[code].items():
            use[component] += qty * units
    return use


@dataclass
class Figures:
    """What a case prints: the counts of issue 9, and its own."""

    case: str
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    applied: int = 0
    lost: int = 0
    doubled: int = 0
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    def line(self):
        base = (
            f"{self.case}: sent {self.sent}, accepted {self.accepted}, "
            f"duplicates {self.duplicates}, applied {self.applied}, lost {self.lost}, "
            f"doubled {self.doubled}, wall {self.seconds:.1f} s"
        )
        extra = ", ".join(f"{k} {v}" for k, v in self.extra.items())
        return f"{base}; {extra}" if extra else base


def event_check(stack, events, figures):
    """Every event applied exactly once: its message done, its unit done, one
    finished unit per event in stock. Fills applied, lost and doubled."""
    keys = [event_key(e) for e in events]
    refs = sorted({k.split("|")[0] for k in keys})
    units = units_by_key(stack, refs)
    messages = messages_by_key(stack, keys)
    lamp, sensor = stack.product("PICO-LAMP"), stack.product("PICO-SENSOR")
    produced = produced_by_ref(stack, refs, [lamp, sensor])
    expected = {}
    for key in keys:
        expected[key.split("|")[0]] = expected.get(key.split("|")[0], 0) + 1
    figures.applied = sum(
        1 for k in keys if messages.get(k, {}).get("state") == "done"
        and units.get(k, {}).get("state") == "done"
    )  # fmt: skip
    figures.lost = len(keys) - figures.applied
    figures.doubled = int(
        sum(max(0.0, produced[ref] - n) for ref, n in expected.items())
    )
    problems = {
        k: (messages.get(k, {}).get("state"), messages.get(k, {}).get("error"),
            units.get(k, {}).get("state"))
        for k in keys
        if messages.get(k, {}).get("state") != "done"
        or units.get(k, {}).get("state") != "done"
    }  # fmt: skip
    short = {
        ref: (n, produced[ref]) for ref, n in expected.items() if produced[ref] != n
    }
    return problems, short


# ------------------------------------------------------------- PICO's side

SUBSCRIBE = (
    "mutation Subscribe($input: SubscribeRequestInput!) {"
    " webhookSubscribe(input: $input) { message } }"
)


def redirect_webhooks(stack, url):
    """Point every subscription at ``url``, as a PICO administrator could; the
    pending deliveries follow (the simulator uses the current URL)."""
    for sub in stack.control.get("/control/subscriptions")["subscriptions"]:
        subscription_input = {
            "subscriptionID": sub["subscriptionID"],
            "responseFragment": sub["responseFragment"],
            "webhookUrl": url,
            "webhookHeaders": sub["webhookHeaders"],
        }
        response = stack.control.session.post(
            stack.config.pico_api_url,
            json={"query": SUBSCRIBE, "variables": {"input": subscription_input}},
            timeout=30,
        )
        assert response.status_code == 200 and not response.json().get("errors"), (
            response.text
        )


def wait_units_sent(stack, refs, timeout=600):
    """Wait until the dispatcher has saved every unit of ``refs`` in PICO."""

    def sent():
        return not stack.rpc.call(
            "pico.unit", "search_count",
            [("external_order_id", "in", refs), ("state", "in", ["queued", "failed"])],
        )  # fmt: skip

    wait_until(sent, timeout, "every unit sent to PICO", interval=2)


def complete_in_pico(stack, refs):
    """Complete every unit of [(ref, code, qty)] on PICO's floor; the events as
    webhook bodies."""
    events = []
    for ref, code, qty in refs:
        serials = stack.driver_serials(qty) if code == "PICO-LAMP" else None
        for index in range(qty):
            arguments = {"externalOrderId": ref, "orderIndex": index}
            if serials:
                arguments.update(
                    operationId=LAMP_OP,
                    producedSerial=produced_serial(ref, index),
                    consumedSerials={"PICO-LED-DRIVER": serials[index]},
                )
            else:
                arguments["operationId"] = SENSOR_OP
            event = stack.control.post("/control/complete", **arguments)["event"]
            events.append({"data": {"operationOrderCompletesStream": event}})
    return events


def settle_outbound(stack, timeout=300):
    """Recovery after the faults: what waits for its back-off is made due (the
    clock moves on), what failed is retried as a PICO manager would, and the
    dispatcher runs, until no outbound message is pending or failed. The cron
    worker may hold the messages meanwhile (its claim skips locked rows), so
    this waits for a deadline, not a number of rounds; returns the rounds."""
    deadline = time.monotonic() + timeout
    rounds = 0
    while True:
        left = stack.rpc.search_read(
            "pico.message",
            [("direction", "=", "out"), ("state", "in", ["pending", "failed"])],
            ["state"],
        )
        if not left:
            return rounds
        if time.monotonic() > deadline:
            raise AssertionError(f"outbound messages still not delivered: {left[:10]}")
        failed = [m["id"] for m in left if m["state"] == "failed"]
        if failed:
            stack.rpc.call("pico.message", "action_retry", failed)
        stack.sql(
            "UPDATE pico_message SET next_attempt_at = now() at time zone 'utc'"
            " WHERE direction = 'out' AND state = 'pending'"
        )
        stack.trigger_cron("pico_mes.ir_cron_pico_dispatch")
        rounds += 1
        time.sleep(2)


def half_done(stack, events):
    """Where stock moves, unit states and message states disagree, read in SQL
    while Odoo is down: a message done for a unit not done (or the reverse), or
    a finished quantity in stock other than the number of units done."""
    keys = [event_key(e) for e in events]
    refs = sorted({k.split("|")[0] for k in keys})

    def rows(query):
        text = stack.sql(query, keys=",".join(keys), refs=",".join(refs))
        return dict(line.rsplit("|", 1) for line in text.splitlines() if line)

    messages = rows(
        "SELECT dedup_key, state FROM pico_message WHERE direction = 'in'"
        " AND dedup_key = ANY(string_to_array(:'keys', ','))"
    )
    units = rows(
        "SELECT external_order_id || '|' || operation_pico_id || '|' ||"
        " order_index, state FROM pico_unit"
        " WHERE external_order_id = ANY(string_to_array(:'refs', ','))"
    )
    produced = rows(
        "SELECT p.pico_order_ref, sum(m.quantity) FROM stock_move m"
        " JOIN mrp_production p ON p.id = m.production_id WHERE m.state = 'done'"
        " AND p.pico_order_ref = ANY(string_to_array(:'refs', ',')) GROUP BY 1"
    )
    problems = []
    for key in keys:
        if (messages.get(key) == "done") != (units.get(key) == "done"):
            problems.append(
                f"{key}: message {messages.get(key)}, unit {units.get(key)}"
            )
    for ref in refs:
        done = sum(
            1
            for k, state in units.items()
            if k.startswith(f"{ref}|") and state == "done"
        )
        if float(produced.get(ref, 0)) != done:
            problems.append(
                f"{ref}: {produced.get(ref, 0)} in stock, {done} units done"
            )
    return problems
