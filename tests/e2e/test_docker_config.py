"""The Docker demo's compose file is valid, with and without the test profile.

A client-side check (``docker compose config``): no Docker engine is needed.
"""

import json
import os
import shutil
import subprocess

import pytest

from .helpers import REPO

COMPOSE_FILE = REPO / "docker" / "docker-compose.yml"
DEMO_SERVICES = {"db", "pico-sim", "demo-init", "odoo"}
NODES_SERVICES = {"nodes-init", "odoo-node-1", "odoo-node-2", "balancer"}


def compose(*arguments: str) -> subprocess.CompletedProcess:
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module", autouse=True)
def compose_cli():
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is not installed")
    if compose("version").returncode:
        pytest.skip("the docker CLI has no compose plugin")


@pytest.mark.parametrize(
    ("profile", "services"),
    [
        ([], DEMO_SERVICES),
        (["--profile", "test"], DEMO_SERVICES | {"tests"}),
        (["--profile", "nodes"], DEMO_SERVICES | NODES_SERVICES),
    ],
    ids=["default", "test-profile", "nodes-profile"],
)
def test_compose_config_is_valid(profile, services):
    result = compose(*profile, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert set(config["services"]) == services


@pytest.mark.parametrize("series", ["18.0", "19.0"])
def test_compose_builds_the_odoo_series_asked(series):
    env = dict(os.environ, ODOO_SERIES=series)
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), "--profile", "test"]
    result = subprocess.run(
        [*command, "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    for name in ("odoo", "demo-init", "tests"):
        service = config["services"][name]
        assert service["build"]["args"]["ODOO_SERIES"] == series
        assert service["image"].endswith(f":{series}")
    assert config["volumes"]["db-data"]["name"] == f"pico-demo-{series}-db-data"


def test_the_nodes_profile_puts_two_prefork_nodes_on_one_database_and_filestore():
    result = compose("--profile", "nodes", "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    nodes = [services["odoo-node-1"], services["odoo-node-2"]]
    for node in nodes:
        assert "--workers=2" in node["command"] and "--proxy-mode" in node["command"]
        assert "nodes-init" in node["depends_on"]
        assert "ports" not in node, "only the balancer is published"
    mounts = [
        {(v["source"], v["target"]) for v in node["volumes"] if v["type"] == "volume"}
        for node in nodes
    ]
    assert mounts[0] == mounts[1] == {("odoo-data", "/var/lib/odoo")}
    assert services["balancer"]["depends_on"].keys() == {"odoo-node-1", "odoo-node-2"}
    assert [p["published"] for p in services["balancer"]["ports"]] == ["8080"]
    assert "http://balancer:8080" in " ".join(services["nodes-init"]["command"])
