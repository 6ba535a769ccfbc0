"""The demo, set up by ``bin/demo --reset --no-serve`` on a throwaway database, and
its processes started by the same code as ``bin/demo``'s, on their own ports."""

import os
import subprocess

import pytest

from demo.stack import DemoConfig

from .helpers import (
    AUTO_BUILD,
    E2E_DB,
    ODOO_PORT,
    REPO,
    SIM_PORT,
    DemoProcesses,
    OdooRpc,
    PicoControl,
    demo_command,
)

SETUP_TIMEOUT = 900  # creating a database with pico_mes takes about a minute


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: drives a live Odoo server and the PICO simulator"
    )


def odoo_bin() -> str:
    """Odoo's launcher, found as ``bin/lib.sh`` finds it."""
    if os.environ.get("ODOO_BIN"):
        return os.environ["ODOO_BIN"]
    script = f'source "{REPO}/bin/lib.sh" && require_odoo && printf %s "$ODOO_BIN"'
    found = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    return found.stdout


@pytest.fixture(scope="session")
def demo_config() -> DemoConfig:
    pytest.importorskip("odoo", reason="the demo needs Odoo 18 importable")
    subprocess.run(
        demo_command("--reset", "--no-serve"), check=True, timeout=SETUP_TIMEOUT
    )
    return DemoConfig(
        odoo_bin=odoo_bin(),
        conf=REPO / "var" / f"{E2E_DB}.conf",
        db=E2E_DB,
        odoo_port=ODOO_PORT,
        sim_port=SIM_PORT,
        auto_build=AUTO_BUILD,
    )


@pytest.fixture(scope="session")
def demo_processes(demo_config):
    processes = DemoProcesses(demo_config)
    yield processes
    processes.stop()


@pytest.fixture
def pico(demo_processes) -> PicoControl:
    """The simulator building every ordered unit in AUTO_BUILD seconds."""
    demo_processes.use_simulator(auto_build=AUTO_BUILD)
    return PicoControl(demo_processes.config.sim_url, demo_processes.config.token)


@pytest.fixture
def manual_pico(demo_processes) -> PicoControl:
    """The simulator leaving units to the test; a failed webhook is retried an
    hour later only, so that nothing but the test delivers a missed event."""
    demo_processes.use_simulator(auto_build=0, retry_base=3600)
    return PicoControl(demo_processes.config.sim_url, demo_processes.config.token)


@pytest.fixture
def odoo(demo_processes) -> OdooRpc:
    demo_processes.start_odoo()
    config = demo_processes.config
    return OdooRpc(f"http://127.0.0.1:{config.odoo_port}", config.db)
