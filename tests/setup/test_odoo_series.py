"""Which Odoo the set-up brings (bin/odoo-env.sh): ODOO_BRANCH picks 18.0 or 19.0, each
cloned beside the other; a repository without the branch is taken at its default branch
if that holds the series; what is not Odoo Community never lands in the tree, even from a
snapshot whose other blobs are missing.

The repositories are small ones made here, shaped like Odoo's (odoo/release.py, addons/).
"""

import os
import subprocess
from pathlib import Path

import pytest

from .lib_sh import run_lib_sh

REPO = Path(__file__).resolve().parents[2]
IDENTITY = ["-c", "user.name=pico", "-c", "user.email=pico@localhost"]
ENTERPRISE_FILE = "odoo/enterprise/quality/__manifest__.py"


def git(repo, *arguments):
    return subprocess.run(
        ["git", "-C", str(repo), *IDENTITY, *arguments],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def write_odoo(tree, series, extra=None):
    major, minor = series.split(".")
    files = {
        "odoo/release.py": f"version_info = ({major}, {minor}, 0, 'final', 0, '')\n",
        "odoo-bin": "#!/usr/bin/env python3\n",
        "requirements.txt": "",
        "addons/mrp/__manifest__.py": "{'name': 'MRP', 'license': 'LGPL-3'}\n",
        **(extra or {}),
    }
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)


def make_repo(path, series, branch="main", extra=None):
    path.mkdir()
    git(path, "init", "-q", "-b", branch)
    write_odoo(path, series, extra)
    git(path, "add", "-A")
    git(path, "commit", "-qm", f"Odoo {series}")
    return path


def snapshot_with_enterprise(path):
    """Odoo 19.0 Community beside Enterprise and OEEL addons, as the public
    snapshot used here; one Enterprise blob is missing from it, as there."""
    oeel = "{'name': 'X', 'license': 'OEEL-1'}\n"
    repo = make_repo(
        path,
        "19.0",
        extra={
            ENTERPRISE_FILE: "{'name': 'Quality', 'license': 'OEEL-1'}\n",  # its own blob
            "custom-addons/theirs/__manifest__.py": oeel,
            "addons/certificate/__manifest__.py": oeel,
            "addons/l10n_hr_edi/__manifest__.py": oeel,
            "addons/project_hr_skills/__manifest__.py": oeel,
        },
    )
    blob = git(repo, "rev-parse", f"HEAD:{ENTERPRISE_FILE}").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    return repo


def set_up(tmp_path, script, **variables):
    env = dict(os.environ, PICO_VAR=str(tmp_path / "var"), **variables)
    for name in ("ODOO_SRC", "ODOO_VENV", "ODOO_BRANCH", "ODOO_REPO"):
        if name not in variables:
            env.pop(name, None)
    return run_lib_sh(script, env, timeout=120)


def clone(tmp_path, repo, branch):
    return set_up(tmp_path, "odoo_clone", ODOO_BRANCH=branch, ODOO_REPO=str(repo))


def test_19_from_a_snapshot_that_holds_it_on_its_default_branch(tmp_path):
    repo = snapshot_with_enterprise(tmp_path / "snapshot")
    status, output = clone(tmp_path, repo, "19.0")
    assert status == 0, output
    tree = tmp_path / "var" / "odoo-19.0"
    assert str(tree) in output.splitlines()  # the path it prints
    assert "version_info = (19, 0," in (tree / "odoo" / "release.py").read_text()
    assert (tree / "addons" / "mrp" / "__manifest__.py").exists()
    for absent in (
        "odoo/enterprise",
        "custom-addons",
        "addons/certificate",
        "addons/l10n_hr_edi",
        "addons/project_hr_skills",
    ):
        assert not (tree / absent).exists(), absent
    assert not (tmp_path / "var" / "odoo-19.0.part").exists()


def test_the_series_branch_comes_before_the_default_branch(tmp_path):
    repo = make_repo(tmp_path / "repo", "18.0", branch="main")
    git(repo, "checkout", "-q", "-b", "19.0")
    write_odoo(repo, "19.0")
    git(repo, "commit", "-qam", "Odoo 19.0")
    git(repo, "checkout", "-q", "main")
    status, output = clone(tmp_path, repo, "19.0")
    assert status == 0, output
    release = tmp_path / "var" / "odoo-19.0" / "odoo" / "release.py"
    assert "version_info = (19, 0," in release.read_text()


def test_a_repository_of_another_series_is_refused(tmp_path):
    repo = make_repo(tmp_path / "repo", "18.0")
    status, output = clone(tmp_path, repo, "19.0")
    assert status != 0
    assert "does not hold Odoo 19.0" in output and "18.0" in output
    assert not (tmp_path / "var" / "odoo-19.0").exists()


def test_the_series_sit_side_by_side(tmp_path):
    repo_18 = make_repo(tmp_path / "repo-18", "18.0")
    repo_19 = make_repo(tmp_path / "repo-19", "19.0")
    assert clone(tmp_path, repo_18, "18.0")[0] == 0
    assert clone(tmp_path, repo_19, "19.0")[0] == 0
    var = tmp_path / "var"
    assert "(18, 0," in (var / "odoo" / "odoo" / "release.py").read_text()
    assert "(19, 0," in (var / "odoo-19.0" / "odoo" / "release.py").read_text()
    status, output = clone(tmp_path, repo_19, "18.0")  # 18.0 is there: not cloned
    assert status == 0 and "Cloning" not in output, output
    status, output = set_up(
        tmp_path, 'echo "$ODOO_DB_SUFFIX|$ODOO_SERIES_SUFFIX"', ODOO_BRANCH="19.0"
    )
    assert output.strip() == "_19_0|-19.0"


def test_addons_under_the_enterprise_licence_are_left_out(tmp_path):
    repo = make_repo(
        tmp_path / "repo",
        "19.0",
        extra={
            "addons/theirs/__manifest__.py": "{'license': 'OEEL-1'}\n",
            "addons/theirs/models.py": "# not Community\n",
            "odoo/addons/also_theirs/__manifest__.py": '{"license": "OEEL-1"}\n',
        },
    )
    status, output = clone(tmp_path, repo, "19.0")
    assert status == 0, output
    tree = tmp_path / "var" / "odoo-19.0"
    assert (tree / "addons" / "mrp" / "__manifest__.py").exists()
    assert not (tree / "addons" / "theirs").exists()
    assert not (tree / "odoo" / "addons" / "also_theirs").exists()


def test_odoo_src_of_another_series_than_asked_is_refused(tmp_path):
    tree = tmp_path / "odoo"
    write_odoo(tree, "19.0")
    status, output = set_up(
        tmp_path, "require_odoo", ODOO_BRANCH="18.0", ODOO_SRC=str(tree)
    )
    assert status != 0
    assert "holds Odoo 19.0, not ODOO_BRANCH=18.0" in output


@pytest.mark.parametrize("branch", ["17.0", "master"])
def test_a_series_pico_mes_does_not_run_on_is_refused(tmp_path, branch):
    status, output = set_up(tmp_path, "true", ODOO_BRANCH=branch)
    assert status != 0
    assert f"ODOO_BRANCH={branch} is none of them" in output
