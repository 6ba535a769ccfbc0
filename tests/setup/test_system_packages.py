"""What bin/lib.sh asks of the system: apt-get, sudo, PostgreSQL's clusters, a browser.

The functions of bin/lib.sh run as they are; the system commands they call (apt-get,
apt-cache, sudo, id, pg_lsclusters) are stand-ins that record their calls and answer
as the system named in each test would, so no package is installed here.
"""

import os
from pathlib import Path

import pytest

from .lib_sh import run_lib_sh

REPO = Path(__file__).resolve().parents[2]
BROWSERS = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")

APT_GET = """#!/bin/sh
echo "DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset} $*" >> "%(log)s"
"""
# sudo's default env_reset: the command gets a clean environment
SUDO = """#!/bin/sh
exec env -i PATH="$PATH" "$@"
"""
ID = """#!/bin/sh
case "$1" in -u) echo 1000 ;; -un) echo tester ;; *) exec /usr/bin/id "$@" ;; esac
"""
# apt-cache policy as on Ubuntu 24.04: chromium is no package there
APT_CACHE_UBUNTU_24_04 = """#!/bin/sh
case "$2" in
    chromium-browser) printf 'chromium-browser:\\n  Installed: (none)\\n  Candidate: 2:1snap1-0ubuntu2\\n' ;;
    *) printf '%s:\\n  Installed: (none)\\n  Candidate: (none)\\n' "$2" ;;
esac
"""
APT_CACHE_DEBIAN_12 = """#!/bin/sh
case "$2" in
    chromium) printf 'chromium:\\n  Installed: (none)\\n  Candidate: 130.0.6723.116-1~deb12u1\\n' ;;
    *) printf '%s:\\n  Installed: (none)\\n  Candidate: (none)\\n' "$2" ;;
esac
"""
# PostgreSQL's packages installed, its cluster dropped
PG_LSCLUSTERS_NONE = """#!/bin/sh
exit 0
"""


@pytest.fixture
def system(tmp_path):
    """A PATH of stand-ins first, then every system command except the browsers."""
    stubs, commands = tmp_path / "stubs", tmp_path / "commands"
    stubs.mkdir()
    commands.mkdir()
    for directory in ("/usr/local/bin", "/usr/bin", "/bin"):
        for command in Path(directory).iterdir():
            target = commands / command.name
            if command.name not in BROWSERS and not target.exists():
                target.symlink_to(command)
    log = tmp_path / "apt-get.log"
    log.touch()

    def stub(name, text):
        path = stubs / name
        path.write_text(text % {"log": log} if "%(log)s" in text else text)
        path.chmod(0o755)

    stub("apt-get", APT_GET)
    env = dict(os.environ, PATH=f"{stubs}:{commands}", PICO_VAR=str(tmp_path / "var"))
    return stub, env, log


def run(env, script):
    return run_lib_sh(script, env, timeout=60)


def test_apt_get_under_sudo_stays_non_interactive(system):
    stub, env, log = system
    stub("sudo", SUDO)
    stub("id", ID)
    status, output = run(env, "apt_install libpq-dev")
    assert status == 0, output
    calls = log.read_text().splitlines()
    assert [call.split(" ", 2)[1] for call in calls] == ["update", "install"]
    assert all(call.startswith("DEBIAN_FRONTEND=noninteractive ") for call in calls)


def test_chromium_is_found_on_ubuntu_24_04(system):
    stub, env, log = system
    stub("apt-cache", APT_CACHE_UBUNTU_24_04)
    status, output = run(env, "ensure_chromium")
    assert status == 0, output
    assert "install -y -qq chromium-browser" in log.read_text()


def test_chromium_is_found_on_debian_12(system):
    stub, env, log = system
    stub("apt-cache", APT_CACHE_DEBIAN_12)
    status, output = run(env, "ensure_chromium")
    assert status == 0, output
    assert "install -y -qq chromium" in log.read_text().splitlines()[-1]


def test_an_installed_browser_is_used_as_it_is(system):
    stub, env, log = system
    stub("chromium-browser", "#!/bin/sh\n")
    status, output = run(env, "ensure_chromium")
    assert status == 0, output
    assert log.read_text() == ""


def test_postgresql_without_a_cluster_gets_a_clear_message(system):
    stub, env, log = system
    stub("pg_lsclusters", PG_LSCLUSTERS_NONE)
    status, output = run(env, "start_postgres")
    assert status != 0
    assert "PostgreSQL is installed but has no cluster" in output
    assert "pg_createcluster" in output
    assert log.read_text() == "", "nothing to install: the packages are there"
