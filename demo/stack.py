"""The demo's processes: the PICO simulator and Odoo, each a child process that is
started, awaited until it answers HTTP, and stopped; and the data load through
``odoo-bin shell``. ``bin/demo`` and the end-to-end tests share this code.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_TOKEN = "pico-demo-token"  # the simulator's API token: a demo value, not a secret
DEMO_RANDOM_SEED = "pico-demo"  # the floor's times are the same on every demo
START_TIMEOUT = 180  # seconds; Odoo loads its registry in ~10 s on 2 cores
STOP_TIMEOUT = 30
LOAD_TIMEOUT = 600


class DemoError(Exception):
    """Something the demo needs did not happen; the message says what to check."""


def say(message):
    print(f"\033[1m== {message}\033[0m", flush=True)


@dataclass(frozen=True)
class DemoConfig:
    """Where the demo's pieces live. ``conf`` is the Odoo config ``bin/demo``
    writes (``var/<db>.conf``); the simulator's state and the logs are kept
    beside it, under ``var/``."""

    odoo_bin: str
    conf: Path
    db: str = "pico_demo"
    odoo_port: int = 8069
    sim_port: int = 8070
    auto_build: float = 20  # seconds PICO takes to build a unit; 0: by hand
    token: str = DEMO_TOKEN

    @property
    def var(self) -> Path:
        return self.conf.parent

    @property
    def odoo_url(self) -> str:
        return f"http://localhost:{self.odoo_port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def pico_api_url(self) -> str:
        return f"{self.sim_url}/graph/v2"

    @property
    def sim_state(self) -> Path:
        return self.var / f"{self.db}-pico-sim.sqlite"

    def log(self, name: str) -> Path:
        return self.var / f"{self.db}-{name}.log"


class Service:
    """A child process serving HTTP on ``port``; ready once ``ready_url`` answers."""

    def __init__(self, name: str, command: list[str], port: int, ready_url: str, log):
        self.name, self.command, self.port = name, command, port
        self.ready_url, self.log = ready_url, Path(log)
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> "Service":
        if port_in_use(self.port):
            raise DemoError(
                f"port {self.port} is in use: is a demo already running? "
                f"({self.name} needs it)"
            )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop it in order
            )
        self._wait_until_ready(timeout)
        return self

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise DemoError(f"{self.name} exited:\n{self.log_tail()}")
            if answers(self.ready_url):
                return
            time.sleep(0.5)
        self.stop()
        raise DemoError(
            f"{self.name} did not answer in {timeout:.0f} s: see {self.log}"
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the process to stop (SIGTERM), then kill it if it does not."""
        if not self.running:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def simulator(config: DemoConfig, auto_build: float | None = None, retry_base=None):
    """The PICO simulator on ``config.sim_port``, its state kept in ``var/``.

    ``auto_build`` overrides the config's (0: units are completed by hand);
    ``retry_base`` is the first webhook retry delay in seconds.
    """
    seconds = config.auto_build if auto_build is None else auto_build
    command = [sys.executable, "-m", "pico_sim", "--host", "127.0.0.1"]
    command += ["--port", str(config.sim_port), "--db", str(config.sim_state)]
    command += ["--token", config.token, "--public-url", config.sim_url]
    command += ["--random-seed", DEMO_RANDOM_SEED]
    if seconds:
        command += ["--auto-build", str(seconds)]
    if retry_base is not None:
        command += ["--retry-base", str(retry_base)]
    ready = f"{config.sim_url}/healthz"
    log = config.log("sim")
    return Service("the PICO simulator", command, config.sim_port, ready, log)


def odoo_server(config: DemoConfig) -> Service:
    """Odoo with the demo database: threaded (workers 0), two cron threads."""
    command = [sys.executable, config.odoo_bin, "-c", str(config.conf)]
    command += ["-d", config.db, "--http-interface=127.0.0.1"]
    command += [f"--http-port={config.odoo_port}", "--workers=0"]
    command += ["--max-cron-threads=2"]
    ready = f"http://127.0.0.1:{config.odoo_port}/web/health"
    return Service("Odoo", command, config.odoo_port, ready, config.log("odoo"))


def load_data(odoo_bin, conf, db, **connection) -> None:
    """Run ``demo.data.load(env, **connection)`` in ``odoo-bin shell`` and commit."""
    arguments = ", ".join(f"{name}={value!r}" for name, value in connection.items())
    script = f"from demo.data import load\nload(env, {arguments})\n"
    paths = [str(REPO), os.environ.get("PYTHONPATH")]
    python_path = os.pathsep.join(filter(None, paths))
    command = [sys.executable, odoo_bin, "shell", "-c", str(conf), "-d", db]
    command += ["--no-http", "--log-level=warn"]
    result = subprocess.run(
        command,
        input=script,
        text=True,
        env={**os.environ, "PYTHONPATH": python_path},
        timeout=LOAD_TIMEOUT,
        check=False,
    )
    if result.returncode:
        status = result.returncode
        raise DemoError(f"loading the demo data failed (odoo-bin shell exit {status})")


def load_demo_data(config: DemoConfig) -> None:
    """The data for a local demo: PICO is the simulator, Odoo is on localhost."""
    load_data(
        config.odoo_bin,
        config.conf,
        config.db,
        api_url=config.pico_api_url,
        token=config.token,
        base_url=config.odoo_url,
    )


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
