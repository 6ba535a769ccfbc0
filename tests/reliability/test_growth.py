"""Case 6, cost as the work grows: every unit of one MO completed unit by unit
(``bench/bench_growth.py``, in process, to count SQL queries), each in turn
with a unit of 5-unit MOs. The whole MO costs at most 2x the SQL queries of as
many units of 5-unit MOs, and its last units at most 1.2x its first ones. Times
are reported, not asserted: on a shared machine they measure its load (the
benchmarks compare them, ``bin/bench growth``)."""

import json
import subprocess
import sys

import pytest

from .stack import REPO, Figures, size


@pytest.mark.parametrize("kind", ["untracked", "serial"])
def test_queries_per_unit_stay_flat(stack, figures, tmp_path, kind):
    output = tmp_path / "growth.json"
    units = size("GROWTH_UNITS")
    command = [sys.executable, str(REPO / "bench" / "bench_growth.py")]
    command += ["--config", str(stack.config.conf), "--db", stack.config.db]
    command += ["--sizes", "", "--kinds", ""]
    command += ["--whole-units", str(units), "--whole-kinds", kind]
    command += ["--json", str(output)]
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=3600, check=False
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    data = json.loads(output.read_text())
    result, targets = data["whole"][kind], data["targets"]
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
                "whole MO / 5-unit MOs, time": round(result["ratio_seconds"], 2),
                "whole MO / 5-unit MOs, queries": round(result["ratio_queries"], 2),
                "ratio time": round(result["flat_seconds"], 2),
                "ratio queries": round(result["flat_queries"], 2),
                "curve (unit: ms, queries)": [
                    f"{i}: {curve[i][0] * 1000:.0f}, {curve[i][1]}"
                    for i in range(0, units, step)
                ],
            },
        )
    )
    assert result["ratio_queries"] <= targets["whole"], run.stdout
    assert result["flat_queries"] <= targets["flat"], run.stdout
