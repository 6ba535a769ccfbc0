"""Screenshots of the running demo, taken in headless Chromium.

    python3 -m demo.screenshots [--odoo-url URL] [--sim-url URL] [--db NAME] [--out DIR]

Logs in to Odoo as admin (JSON-RPC), then drives Chromium over the DevTools
protocol: each screen is opened by its URL, waited for until what it shows is
drawn, and captured as a PNG of 1440 x 900 pixels. ``bin/screenshots`` runs it
against ``bin/demo``'s ports and writes ``pico_mes/static/description/``, whose
PNGs the manifest lists for the Apps page and the README shows.
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "pico_mes" / "static" / "description"
WIDTH, HEIGHT = 1440, 900
DASHBOARD_HEIGHT = 1080  # the figures and the three pictures
READY_TIMEOUT = 60  # seconds for a screen to draw on a busy 2-core machine
SETTLE = 1.5  # seconds for charts to finish their animation
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
    f"--window-size={WIDTH},{HEIGHT}",
)
# Odoo's web client has nothing left to load: no spinner, no pending request.
ODOO_IDLE = "!document.querySelector('.o_loading_indicator, .o_blockUI')"


class ScreenshotError(Exception):
    pass


@dataclass(frozen=True)
class Screen:
    """A PNG to write: where to go, what must be drawn, what to click first."""

    name: str
    url: str
    ready: str  # a JavaScript expression, true once the screen is drawn
    click: str | None = None  # a CSS selector to click once ready
    then: str | None = None  # what must be drawn after the click
    height: int = HEIGHT


class Chromium:
    """Headless Chromium and one page of it, over the DevTools protocol."""

    def __init__(self, binary: str):
        import websocket  # websocket-client: in requirements-test.txt

        self._profile = tempfile.mkdtemp(prefix="pico-screenshots-")
        self._log = Path(self._profile) / "chromium.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"]
                + ["about:blank"],
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_without_memory_limit,  # noqa: PLW1509
            )
        port = self._devtools_port()
        page = next(
            target
            for target in requests.get(
                f"http://127.0.0.1:{port}/json", timeout=10
            ).json()
            if target["type"] == "page"
        )
        self._socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=30, suppress_origin=True
        )
        self._next_id = 0

    def resize(self, width: int, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _devtools_port(self) -> int:
        path = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if path.exists() and path.read_text().strip():
                return int(path.read_text().splitlines()[0])
            if self._process.poll() is not None:
                tail = self._log.read_text(errors="replace").strip().splitlines()
                raise ScreenshotError(
                    "Chromium exited at start-up:\n" + "\n".join(tail[-8:])
                )
            time.sleep(0.1)
        raise ScreenshotError("Chromium did not open its DevTools port")

    def call(self, method: str, **params) -> dict:
        self._next_id += 1
        self._socket.send(
            json.dumps({"id": self._next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise ScreenshotError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")

    def _drawn(self, expression: str) -> bool:
        try:
            return bool(self.evaluate(f"Boolean({expression})"))
        except ScreenshotError:  # the page is between two documents
            return False

    def wait_for(self, expression: str, what: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not self._drawn(expression):
            if time.monotonic() > deadline:
                raise ScreenshotError(f"not drawn within {READY_TIMEOUT} s: {what}")
            time.sleep(0.25)

    def close(self) -> None:
        self._socket.close()
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def _without_memory_limit() -> None:
    """Chromium reserves far more address space than it uses: a process under
    Odoo's memory limit (an Odoo test server sets ``RLIMIT_AS``) lifts it for
    Chromium, as Odoo's own test browser does."""
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def odoo_session(odoo_url: str, db: str, login: str, password: str) -> str:
    """The session id of ``login`` (JSON-RPC authenticate)."""
    response = requests.post(
        f"{odoo_url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": db, "login": login, "password": password},
        },
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error") or "session_id" not in response.cookies:
        raise ScreenshotError(f"{login} cannot log in to {db} on {odoo_url}")
    return response.cookies["session_id"]


def rpc(odoo_url: str, session: str, model: str, method: str, *args, **kwargs):
    response = requests.post(
        f"{odoo_url}/web/dataset/call_kw/{model}/{method}",
        json={
            "jsonrpc": "2.0",
            "params": {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": kwargs,
            },
        },
        cookies={"session_id": session},
        timeout=60,
    )
    response.raise_for_status()
    answer = response.json()
    if "error" in answer:
        raise ScreenshotError(f"{model}.{method}: {answer['error']['data']['message']}")
    return answer["result"]


def busiest_order(odoo_url: str, session: str) -> int:
    """The MO whose PICO tab shows the most: the most units, one on the floor
    among them if possible."""
    productions = rpc(
        odoo_url,
        session,
        "mrp.production",
        "search_read",
        [("pico_order_ref", "!=", False)],
        fields=["pico_unit_ids", "pico_units_in_progress"],
    )
    if not productions:
        raise ScreenshotError("no manufacturing order was sent to PICO yet")
    return max(
        productions,
        key=lambda p: (len(p["pico_unit_ids"]), bool(p["pico_units_in_progress"])),
    )["id"]


def flagged_bom(odoo_url: str, session: str) -> int | None:
    rows = rpc(
        odoo_url,
        session,
        "pico.operation.time",
        "search_read",
        [("flagged", "=", True)],
        fields=["bom_id"],
        limit=1,
    )
    return rows[0]["bom_id"][0] if rows else None


def drawn(selector: str) -> str:
    """JavaScript: true once an element matches ``selector``."""
    return f"document.querySelector({json.dumps(selector)})"


def screens(odoo_url: str, sim_url: str, session: str) -> list[Screen]:
    action = f"{odoo_url}/odoo/action-"
    found = [
        Screen(
            "screenshot_dashboard",
            f"{action}pico_mes.pico_dashboard_action",
            "document.querySelectorAll('.o_pico_picture canvas').length >= 2"
            " && document.querySelector('.o_pico_picture .o_pivot td')",
            height=DASHBOARD_HEIGHT,
        ),
        Screen(
            "screenshot_production",
            f"{action}mrp.mrp_production_action/{busiest_order(odoo_url, session)}",
            drawn(".o_form_view .o_notebook a[name=pico]"),
            click=".o_form_view .o_notebook a[name=pico]",
            then=drawn(".o_field_widget[name=pico_unit_ids] .o_data_row"),
        ),
        Screen(
            "screenshot_cycle_times",
            f"{action}pico_mes.pico_unit_process_action",
            drawn(".o_pivot td.o_pivot_cell_value"),
        ),
    ]
    bom = flagged_bom(odoo_url, session)
    if bom:
        found.append(
            Screen(
                "screenshot_bom",
                f"{action}mrp.mrp_bom_form_action/{bom}",
                drawn(".o_form_view .alert-warning [name=pico_time_warning]"),
                click=".o_form_view .o_notebook a[name=operations]",
                then=drawn(".o_field_widget[name=operation_ids] .o_data_row"),
            )
        )
    found.append(Screen("screenshot_simulator", f"{sim_url}/", drawn("main")))
    return found


def capture(chromium: Chromium, screen: Screen, out: Path) -> Path:
    chromium.resize(WIDTH, screen.height)
    chromium.call("Page.navigate", url=screen.url)
    chromium.wait_for(f"({screen.ready}) && {ODOO_IDLE}", screen.name)
    if screen.click:
        chromium.evaluate(f"document.querySelector({json.dumps(screen.click)}).click()")
        chromium.wait_for(f"({screen.then}) && {ODOO_IDLE}", f"{screen.name}, clicked")
    time.sleep(SETTLE)
    data = chromium.call("Page.captureScreenshot", format="png")["data"]
    path = out / f"{screen.name}.png"
    path.write_bytes(base64.b64decode(data))
    return path


def chromium_binary() -> str:
    for name in (
        os.environ.get("CHROMIUM_BIN"),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        if name and shutil.which(name):
            return shutil.which(name)
    raise ScreenshotError("no Chromium found (bin/test installs Debian's chromium)")


def take(
    odoo_url, sim_url, db, out: Path, login="admin", password="admin"
) -> list[Path]:
    """Every screenshot, written to ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    session = odoo_session(odoo_url, db, login, password)
    chromium = Chromium(chromium_binary())
    try:
        chromium.call("Network.enable")
        chromium.call(
            "Network.setCookie", name="session_id", value=session, url=odoo_url
        )
        return [
            capture(chromium, screen, out)
            for screen in screens(odoo_url, sim_url, session)
        ]
    finally:
        chromium.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python3 -m demo.screenshots", description=__doc__
    )
    parser.add_argument("--odoo-url", default="http://localhost:8069")
    parser.add_argument("--sim-url", default="http://127.0.0.1:8070")
    parser.add_argument("--db", default="pico_demo")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        for path in take(args.odoo_url, args.sim_url, args.db, args.out):
            print(path)
    except (ScreenshotError, requests.RequestException) as error:
        raise SystemExit(f"screenshots: {error}") from error


if __name__ == "__main__":
    main()
