"""The fresh-machine set-up (bin/odoo-env.sh): Odoo 18 cloned under a scratch var/ from a
git repository made from the Odoo tree these tests run on, a virtualenv built for it, the
addon installed into a new database; an interrupted run recovers, a second run reuses.

ODOO_BOOTSTRAP=always takes the path of a machine where python3 cannot import Odoo, even
on one where it can.
"""

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
odoo = pytest.importorskip("odoo", reason="the set-up is tested from an Odoo 18 tree")


@pytest.fixture(scope="module")
def odoo_repo(tmp_path_factory):
    """A git repository holding the Odoo tree that runs these tests."""
    tree = Path(odoo.__file__).resolve().parents[1]
    repo = tmp_path_factory.mktemp("odoo-repo")
    git = ["git", f"--git-dir={repo}/.git", f"--work-tree={tree}"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    identity = ["-c", "user.name=pico", "-c", "user.email=pico@localhost"]
    subprocess.run([*git[:3], *identity, "commit", "-qm", "Odoo 18.0"], check=True)
    # A local clone packs every object: skip the delta search, which only saves bandwidth.
    subprocess.run([*git[:3], "config", "pack.window", "0"], check=True)
    return repo


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, odoo_repo):
    var = tmp_path_factory.mktemp("var")
    env = dict(os.environ, PICO_VAR=str(var), ODOO_REPO=str(odoo_repo))
    env.update(ODOO_BOOTSTRAP="always", ODOO_VENV=str(var / "venv"))
    env.pop("ODOO_SRC", None)
    return var, env


def bootstrap(env, **kwargs):
    script = f'source "{REPO}/bin/lib.sh" && require_odoo && echo "PYTHON=$PYTHON"'
    return subprocess.Popen(
        ["bash", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def finish(process, timeout=900):
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def test_a_clone_that_fails_says_what_and_how_to_retry(scratch):
    var, env = scratch
    status, output = finish(bootstrap(dict(env, ODOO_REPO=str(var / "nowhere"))))
    assert status != 0
    assert "could not clone Odoo" in output and "ODOO_REPO" in output
    assert not (var / "odoo").exists()


def test_an_interrupted_first_run_recovers(scratch):
    var, env = scratch
    process = bootstrap(env)
    log = var / "bootstrap-pip.log"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and "Collecting" in log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    assert process.poll() is None, "the first run ended before pip started"
    os.killpg(process.pid, signal.SIGKILL)  # as a closed terminal or a reboot would
    process.wait()
    assert (var / "odoo" / "odoo" / "release.py").exists(), "the clone was complete"
    assert not (var / "venv" / ".pico-ready").exists(), "half a virtualenv is not ready"

    status, output = finish(bootstrap(env))
    assert status == 0, output
    assert "Creating the virtualenv" in output, "the half-made virtualenv was rebuilt"
    python = var / "venv" / "bin" / "python"
    assert f"PYTHON={python}" in output
    check = "import odoo.release as r, graphql, pytest; print(r.version_info[:2])"
    answer = subprocess.run([python, "-c", check], capture_output=True, text=True)
    assert answer.stdout.strip() == "(18, 0)", answer.stderr


def test_a_second_run_reuses_everything(scratch):
    var, env = scratch
    ready = var / "venv" / ".pico-ready"
    before = ready.stat().st_mtime_ns
    status, output = finish(bootstrap(env), timeout=120)
    assert status == 0, output
    for step in ("Cloning", "Creating the virtualenv", "Installing"):
        assert step not in output
    assert ready.stat().st_mtime_ns == before


def test_the_addon_installs_into_a_fresh_database(scratch):
    var, env = scratch
    database = f"pico_bootstrap_{uuid.uuid4().hex[:8]}"
    script = f"""source "{REPO}/bin/lib.sh" && require_odoo && start_postgres >/dev/null
        write_odoo_conf "$VAR/check.conf" {database} 8199
        "$PYTHON" "$ODOO_BIN" -c "$VAR/check.conf" -d {database} -i pico_mes \\
            --stop-after-init --log-level=warn"""
    try:
        result = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=900
        )
        assert result.returncode == 0, result.stdout + result.stderr
        installed = subprocess.run(
            [
                "psql",
                "-d",
                database,
                "-tAc",
                "SELECT state FROM ir_module_module WHERE name = 'pico_mes'",
            ],
            capture_output=True,
            text=True,
        )
        assert installed.stdout.strip() == "installed"
    finally:
        subprocess.run(["dropdb", "--if-exists", database], capture_output=True)
