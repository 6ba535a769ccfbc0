"""The screenshots of the Apps page and the README, taken from the live demo by
the script that makes them (``bin/screenshots``, ``demo.screenshots``)."""

import subprocess
import sys

import pytest

from .helpers import E2E_DB, REPO

pytest.importorskip("odoo", reason="the demo needs Odoo importable")
Image = pytest.importorskip("PIL.Image")

pytestmark = pytest.mark.e2e

SCREENS = (
    "screenshot_dashboard",
    "screenshot_production",
    "screenshot_cycle_times",
    "screenshot_bom",
    "screenshot_simulator",
)
SCRIPT_TIMEOUT = 600


def test_screenshots_of_the_main_screens(pico, odoo, demo_processes, tmp_path):
    config = demo_processes.config
    done = subprocess.run(
        [
            sys.executable, "-m", "demo.screenshots", "--db", E2E_DB,
            "--odoo-url", f"http://localhost:{config.odoo_port}",
            "--sim-url", config.sim_url, "--out", str(tmp_path),
        ],
        cwd=REPO, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    for name in SCREENS:
        path = tmp_path / f"{name}.png"
        assert path.exists(), name
        with Image.open(path) as image:
            assert image.width == 1440 and image.height >= 900, name
            colours = image.convert("RGB").getcolors(maxcolors=100000)
        assert colours is None or len(colours) > 200, f"{name} is nearly blank"
        assert path.stat().st_size > 30000, f"{name} is nearly empty"


def test_the_manifest_and_the_readme_show_the_committed_screenshots():
    manifest = (REPO / "pico_mes" / "__manifest__.py").read_text()
    readme = (REPO / "README.rst").read_text()
    for name in SCREENS:
        committed = REPO / "pico_mes" / "static" / "description" / f"{name}.png"
        assert committed.exists(), name
        assert f"static/description/{name}.png" in manifest, name
        assert f"pico_mes/static/description/{name}.png" in readme, name
