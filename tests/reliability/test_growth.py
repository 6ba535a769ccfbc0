"""Case 6, cost as the work grows: every unit of one MO completed unit by unit
(``bench/bench_growth.py``, in process, to count SQL queries); the last units
cost at most 1.2x the first ones, in time and in queries."""

import json
import subprocess
import sys

import pytest

from .stack import REPO, Figures, size


@pytest.mark.parametrize("kind", ["untracked", "serial"])
def test_cost_per_unit_stays_flat(stack, figures, tmp_path, kind):
    output = tmp_path / "growth.json"
    units = size("GROWTH_UNITS")
    command = [sys.executable, str(REPO / "bench" / "bench_growth.py")]
    command += ["--config", str(stack.config.conf), "--db", stack.config.db]
    command += ["--units", str(units), "--kind", kind, "--json", str(output)]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=3600, check=False
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    result = json.loads(output.read_text())
    curve = result["curve"]
    step = max(1, units // 10)
    figures(
        Figures(
            f"cost as the work grows ({kind})",
            sent=units,
            accepted=units,
            applied=units,
            seconds=sum(point[0] for point in curve),
            extra={
                "ms/unit first": round(result["first_seconds"] * 1000),
                "ms/unit last": round(result["last_seconds"] * 1000),
                "queries/unit first": result["first_queries"],
                "queries/unit last": result["last_queries"],
                "ratio time": round(result["ratio_seconds"], 2),
                "ratio queries": round(result["ratio_queries"], 2),
                "curve (unit: ms, queries)": [
                    f"{i}: {curve[i][0] * 1000:.0f}, {curve[i][1]}"
                    for i in range(0, units, step)
                ],
            },
        )
    )
    assert result["ratio_queries"] <= result["target"], run.stdout
    assert result["ratio_seconds"] <= result["target"], run.stdout
