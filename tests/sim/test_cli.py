"""``python3 -m pico_sim`` serves the demo catalogue on the given port."""

import socket
import subprocess
import sys
from pathlib import Path

import requests

from .helpers import wait_until

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_command_line_server(tmp_path):
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "pico_sim",
        "--port",
        str(port),
        "--token",
        "cli-token",
        "--db",
        str(tmp_path / "state.sqlite"),
        "--quiet",
    ]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return requests.get(base + "/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=10, interval=0.05)
        response = requests.post(
            base + "/graph/v2",
            json={"query": "{ operations { id } }"},
            headers={"x-pico-api-org": "cli-token"},
            timeout=5,
        )
        ids = [op["id"] for op in response.json()["data"]["operations"]]
        assert ids == [
            "op-desk-lamp",
            "op-sensor-kit",
            "op-control-box",
            "op-proc-solder",
        ]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert f"GraphQL {base}/graph/v2" in output
