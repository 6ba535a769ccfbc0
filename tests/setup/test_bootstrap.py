"""The fresh-machine set-up (bin/odoo-env.sh): Odoo cloned under a scratch var/ from a
git repository made from the Odoo tree these tests run on, a virtualenv built for it, the
addon installed into a new database; an interrupted run recovers, a second run reuses; a
failed pip leaves nothing trusted; a virtualenv the user named is never deleted; a
system Python that refuses pip (PEP 668) gets a virtualenv beside it.

ODOO_BOOTSTRAP=always takes the path of a machine where python3 cannot import Odoo, even
on one where it can.
"""

import os
import signal
import subprocess
import sys
import sysconfig
import time
import uuid
from pathlib import Path

import pytest

from .lib_sh import run_lib_sh

REPO = Path(__file__).resolve().parents[2]
release = pytest.importorskip("odoo.release", reason="the set-up is tested from Odoo")
ODOO_TREE = Path(release.__file__).resolve().parents[1]
# pip refuses it at once, without asking an index
NO_SUCH_PROJECT = "/nonexistent/pico-no-such-project"


@pytest.fixture(scope="module")
def odoo_repo(tmp_path_factory):
    """A git repository holding the Odoo tree that runs these tests."""
    tree = ODOO_TREE
    repo = tmp_path_factory.mktemp("odoo-repo")
    git = ["git", f"--git-dir={repo}/.git", f"--work-tree={tree}"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    identity = ["-c", "user.name=pico", "-c", "user.email=pico@localhost"]
    subprocess.run([*git[:3], *identity, "commit", "-qm", "Odoo"], check=True)
    # A local clone packs every object: skip the delta search, which only saves bandwidth.
    subprocess.run([*git[:3], "config", "pack.window", "0"], check=True)
    return repo


@pytest.fixture(scope="module")
def scratch(tmp_path_factory, odoo_repo):
    var = tmp_path_factory.mktemp("var")
    env = dict(os.environ, PICO_VAR=str(var), ODOO_REPO=str(odoo_repo))
    env.update(ODOO_BOOTSTRAP="always", ODOO_BRANCH=release.series)
    for name in ("ODOO_SRC", "ODOO_VENV"):
        env.pop(name, None)
    return var, env


def series_path(var, name, extension=""):
    """var/odoo or var/venv for 18.0, var/odoo-19.0 or var/venv-19.0 for 19.0."""
    suffix = "" if release.series == "18.0" else f"-{release.series}"
    return var / f"{name}{suffix}{extension}"


def fake_odoo_tree(root, requirements):
    """An Odoo tree of this series as far as the set-up reads it: its release
    number and its requirements."""
    (root / "odoo").mkdir(parents=True)
    major, minor = release.version_info[:2]
    (root / "odoo" / "release.py").write_text(
        f"version_info = ({major}, {minor}, 0, 'final', 0, '')\n"
    )
    (root / "requirements.txt").write_text(requirements)
    return root


def bootstrap(env, **kwargs):
    # as bin/test and bin/demo run it
    script = (
        f'set -euo pipefail; source "{REPO}/bin/lib.sh"; require_odoo; '
        'echo "PYTHON=$PYTHON"'
    )
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
    assert not series_path(var, "odoo").exists()


def test_an_interrupted_first_run_recovers(scratch):
    var, env = scratch
    process = bootstrap(env)
    log = series_path(var, "bootstrap-pip", ".log")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and "Collecting" in log.read_text(errors="replace"):
            break
        time.sleep(0.5)
    assert process.poll() is None, "the first run ended before pip started"
    os.killpg(process.pid, signal.SIGKILL)  # as a closed terminal or a reboot would
    process.wait()
    odoo_clone, venv = series_path(var, "odoo"), series_path(var, "venv")
    assert (odoo_clone / "odoo" / "release.py").exists(), "the clone was complete"
    assert not (venv / ".pico-ready").exists(), "half a virtualenv is not ready"

    status, output = finish(bootstrap(env))
    assert status == 0, output
    assert "Creating the virtualenv" in output, "the half-made virtualenv was rebuilt"
    python = venv / "bin" / "python"
    assert f"PYTHON={python}" in output
    # gevent.events: Odoo's gevent worker imports it (it needs pkg_resources)
    check = "import odoo.release as r, graphql, pytest, gevent.events; print(r.series)"
    answer = subprocess.run([python, "-c", check], capture_output=True, text=True)
    assert answer.stdout.strip() == release.series, answer.stderr


def test_a_second_run_reuses_everything(scratch):
    var, env = scratch
    ready = series_path(var, "venv") / ".pico-ready"
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


def test_a_failing_pip_install_stops_with_the_end_of_its_log_and_is_not_trusted(
    tmp_path,
):
    var = tmp_path / "var"
    tree = fake_odoo_tree(tmp_path / "odoo", f"{NO_SUCH_PROJECT}\n")
    env = dict(os.environ, PICO_VAR=str(var), ODOO_SRC=str(tree))
    for name in ("ODOO_VENV", "ODOO_BRANCH"):
        env.pop(name, None)
    venv = series_path(var, "venv")
    for _run in range(2):  # the second run trusts nothing the first left
        status, output = finish(bootstrap(env), timeout=600)
        assert status != 0, output
        assert "does not exist" in output, "pip's own words, from the end of its log"
        assert "installing into" in output and "failed" in output
        assert not (venv / ".pico-ready").exists()
        assert not list(venv.glob("lib/python*/site-packages/odoo-src.pth"))
    assert "Creating the virtualenv" in output, "the half-made virtualenv was rebuilt"


def test_a_virtualenv_the_user_named_is_never_deleted(tmp_path):
    venv = tmp_path / "my-venv"
    venv.mkdir()
    (venv / "mine.txt").write_text("the user's")
    tree = fake_odoo_tree(tmp_path / "odoo", f"{NO_SUCH_PROJECT}\n")
    env = dict(os.environ, PICO_VAR=str(tmp_path / "var"), ODOO_SRC=str(tree))
    env["ODOO_VENV"] = str(venv)
    env.pop("ODOO_BRANCH", None)
    status, output = finish(bootstrap(env), timeout=600)
    assert status != 0 and "does not exist" in output, output
    assert (venv / "mine.txt").read_text() == "the user's"
    assert not (venv / ".pico-ready").exists()


SYSTEM_PYTHON = Path("/usr/bin/python3")


def refuses_pip(python):
    check = (
        "import os, sys, sysconfig; sys.exit(not os.path.isfile(os.path.join("
        "sysconfig.get_path('stdlib'), 'EXTERNALLY-MANAGED')))"
    )
    return python.exists() and subprocess.run([python, "-c", check]).returncode == 0


@pytest.mark.skipif(
    not refuses_pip(SYSTEM_PYTHON)
    or SYSTEM_PYTHON.resolve().name
    != f"python{sys.version_info[0]}.{sys.version_info[1]}",
    reason="needs the system's own Python (PEP 668) of the version running the tests",
)
def test_odoo_of_a_system_python_that_refuses_pip_gets_a_virtualenv_beside_it(
    tmp_path,
):
    """Odoo importable by Debian's python3 (here from this tree, with the
    packages of the tests' virtualenv): what bin/test installs lands in a
    virtualenv beside it, which sees its packages, not in a refused pip."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(SYSTEM_PYTHON)
    site = sysconfig.get_paths()["purelib"]
    var = tmp_path / "var"
    env = dict(os.environ, PICO_VAR=str(var), PATH=f"{bin_dir}:{os.environ['PATH']}")
    env["PYTHONPATH"] = f"{ODOO_TREE}:{site}"
    env["ODOO_BRANCH"] = release.series
    for name in ("ODOO_SRC", "ODOO_VENV", "ODOO_BOOTSTRAP"):
        env.pop(name, None)
    script = f"""require_odoo
        echo "PYTHON=$PYTHON" &&
        "$PYTHON" -m pip install -q --disable-pip-version-check \\
            -r "{REPO}/requirements-test.txt" && echo installed"""
    status, output = run_lib_sh(script, env, timeout=600)
    assert status == 0, output
    venv = series_path(var, "venv-system")
    assert f"PYTHON={venv}/bin/python" in output
    assert "installed" in output
    assert "include-system-site-packages = true" in (venv / "pyvenv.cfg").read_text()
