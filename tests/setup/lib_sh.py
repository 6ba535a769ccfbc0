"""bin/lib.sh's functions run as the bin/ scripts run them, for the set-up tests."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_lib_sh(script, env, timeout):
    """``script`` in bash after sourcing bin/lib.sh, under the bin/ scripts'
    ``set -euo pipefail``: (exit status, stdout and stderr)."""
    result = subprocess.run(
        ["bash", "-c", f'set -euo pipefail; source "{REPO}/bin/lib.sh"; {script}'],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr
