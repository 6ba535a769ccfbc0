"""Run every benchmark and the growth measure; write bench/REPORT.md and a plot.

    python bench/report.py --config var/bench.conf --db pico_bench
    python bench/report.py --config ... --db ... --only growth --units 60

Each ``bench_*.py`` module of this folder runs in its own process (as ``bin/bench``
runs them) against the given database, which must have pico_mes installed and
may be thrown away afterwards (bench_inbound commits). Every figure printed with
a target, ``(target <= 1.2)``, goes into the report with its target and whether
it is met; the figures are ratios against a baseline measured in the same run,
except the few absolute ones (named so in the report). The growth measure
(``bench_growth.py``) adds the cost-per-unit curve, plotted to
``bench/REPORT.png`` (``bench/REPORT.svg`` when matplotlib is missing).
"""

import argparse
import json
import operator
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
NOISE = re.compile(
    r"pico_sim\.http|werkzeug: |odoo\.sql_db: bad query|could not serialize"
    r"|^(ERROR|CONTEXT):|^\s*$"
)
TARGET = re.compile(
    r"^\s*(?P<label>.+?)\s{2,}(?P<value>.*?)"
    r"\(target (?P<op><=|>=|<|>) ?(?P<target>[0-9.]+)x?\)"
)
NUMBER = re.compile(r"[-+]?[0-9][0-9,]*\.?[0-9]*")
GROWTH_KINDS = ("untracked", "serial")
# --quick: reduced sizes, minutes instead of an hour (the report says so)
QUICK = {
    "burst": ["--sizes", "10,50", "--backlog", "400", "--mos", "40"],
    "http_burst": ["--completions", "100", "--rounds", "1"],
}
QUICK_GROWTH_UNITS = 60
QUICK_NOTE = (
    "bursts of 10 and 50 completions, a backlog of 400 over 40 MOs, 100 "
    "completions over HTTP per server mode, growth "
    f"along a {QUICK_GROWTH_UNITS}-unit MO; `bin/bench` without `--quick` runs "
    "the full sizes."
)
COMPARE = {"<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}


@dataclass
class Figure:
    bench: str
    section: str
    label: str
    value: float
    op: str
    target: float

    @property
    def met(self):
        return COMPARE[self.op](self.value, self.target)

    @property
    def kind(self):
        text = f"{self.label} {self.section}".lower()
        return "ratio to baseline" if re.search(r"\bratio\b| / ", text) else "absolute"


def modules():
    found = sorted(p.stem.removeprefix("bench_") for p in BENCH.glob("bench_*.py"))
    return [name for name in found if name != "growth"] + ["growth"]


def run(name, args, growth_json=None, kind=None):
    command = [sys.executable, str(BENCH / f"bench_{name}.py")]
    command += ["--config", args.config, "--db", args.db]
    if name == "growth":
        command += ["--units", str(args.units), "--kind", kind]
        command += ["--json", str(growth_json)]
    elif args.quick:
        command += QUICK.get(name, [])
    print(f"== bench/bench_{name}.py", flush=True)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if not NOISE.search(line)
    ]
    print("\n".join(lines), flush=True)
    return done.returncode, lines, time.perf_counter() - start


def parse(name, lines):
    """The figures with a target in a benchmark's printed tables."""
    figures, section = [], ""
    for line in lines:
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        match = TARGET.match(line)
        if not match:
            continue
        numbers = NUMBER.findall(match["value"])
        if not numbers:
            continue
        figures.append(
            Figure(
                name,
                section,
                match["label"].strip(),
                float(numbers[0].replace(",", "")),
                match["op"],
                float(match["target"]),
            )
        )
    return figures


def plot(figures, growth, path):
    """Growth curve (time and queries per unit) and each figure against its
    target; PNG through matplotlib, else a hand-written SVG of the curve."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return svg_curve(growth, path.with_suffix(".svg"))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    left = axes[0]
    if growth:
        twin = left.twinx()
        for kind, result in growth.items():
            units = range(len(result["curve"]))
            left.plot(
                units, [p[0] * 1000 for p in result["curve"]], label=f"ms, {kind}"
            )
            twin.plot(
                units, [p[1] for p in result["curve"]], linestyle="--",
                label=f"queries, {kind}",
            )  # fmt: skip
        left.set_xlabel("unit completed, in order (one MO)")
        left.set_ylabel("ms per unit")
        twin.set_ylabel("SQL queries per unit (dashed)")
        twin.set_ylim(bottom=0)
        left.set_ylim(bottom=0)
        left.set_title("Cost per unit along the backorder chain")
        left.legend(loc="lower left")
        twin.legend(loc="lower right")
    right = axes[1]
    names = [f"{f.bench}: {f.label}"[:48] for f in figures]
    scores = [f.value / f.target if f.target else 0 for f in figures]
    colors = ["tab:green" if f.met else "tab:red" for f in figures]
    right.barh(names, scores, color=colors)
    right.axvline(1.0, color="black", linewidth=1)
    right.set_xlabel("figure / target (green: met, red: missed)")
    right.set_title("Each figure against its target")
    right.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def svg_curve(growth, path):
    width, height = 640, 240
    points = next(iter(growth.values()))["curve"] if growth else []
    top = max((p[0] for p in points), default=1) or 1
    step = width / max(len(points) - 1, 1)
    line = " ".join(
        f"{i * step:.1f},{height - p[0] / top * (height - 20):.1f}"
        for i, p in enumerate(points)
    )
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<polyline fill="none" stroke="steelblue" points="{line}"/>'
        f'<text x="4" y="14" font-size="12">ms per unit, unit by unit</text></svg>'
    )
    return path


def markdown(figures, growth, runs, image, reliability):
    met = sum(f.met for f in figures)
    out = [
        "# Benchmark report",
        "",
        f"Produced by `bench/report.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"({platform.node()}, {platform.machine()}). Each figure is measured "
        "against a baseline taken in the same run; the machine's noise moves "
        "absolute numbers, not ratios.",
        "",
        f"**{met} of {len(figures)} targets met.**",
        "",
        f"![figures and growth curve]({image.name})",
        "",
        "| benchmark | figure | kind | value | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        out.append(
            f"| {f.bench} | {f.section}: {f.label} | {f.kind} | {f.value:g} "
            f"| {f.op} {f.target:g} | {'met' if f.met else '**missed**'} |"
        )
    for kind, result in growth.items():
        step = max(1, result["units"] // 10)
        out += [
            "",
            f"## Cost as the work grows: {result['units']} units, {kind}, one MO",
            "",
            "Every unit of one MO completed unit by unit; each completion closes "
            "the MO holding the unit and leaves a backorder. The last "
            f"{result['window']} units (median) against the second unit of as many "
            "fresh MOs of the same size, measured in alternation with them:",
            "",
            "| unit | ms | SQL queries |",
            "|---|---|---|",
        ]
        for index in range(0, result["units"], step):
            seconds, queries = result["curve"][index]
            out.append(f"| {index} | {seconds * 1000:.0f} | {queries} |")
    out += ["", "## Runs", "", "| module | exit | seconds |", "|---|---|---|"]
    for name, (status, seconds) in runs.items():
        out.append(f"| bench_{name}.py | {status} | {seconds:.0f} |")
    if reliability:
        out += [
            "",
            f"## Reliability suite, last run ({reliability['mode']} sizes)",
            "",
            "From `var/reliability-figures.json`, written by `tests/reliability`.",
            "",
            "| case | sent | accepted | duplicates | applied | lost | doubled | s |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for f in reliability["figures"]:
            out.append(
                f"| {f['case']} | {f['sent']} | {f['accepted']} | {f['duplicates']} "
                f"| {f['applied']} | {f['lost']} | {f['doubled']} "
                f"| {float(f['seconds']):.0f} |"
            )
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--only", help="comma-separated: sync,outbound,inbound,growth")
    parser.add_argument("--units", type=int, default=500, help="growth: MO size")
    parser.add_argument("--output", default=str(BENCH / "REPORT.md"))
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes (burst, growth)"
    )
    args = parser.parse_args()
    if args.quick:
        args.units = min(args.units, QUICK_GROWTH_UNITS)
    names = args.only.split(",") if args.only else modules()
    figures, runs, growth = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            if name != "growth":
                status, lines, seconds = run(name, args)
                runs[name] = (status, seconds)
                figures += parse(name, lines)
                continue
            for kind in GROWTH_KINDS:
                growth_json = Path(tmp) / f"growth-{kind}.json"
                status, lines, seconds = run(name, args, growth_json, kind)
                runs[f"{name} --kind {kind}"] = (status, seconds)
                figures += parse(f"growth ({kind})", lines)
                if growth_json.exists():
                    growth[kind] = json.loads(growth_json.read_text())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    image = plot(figures, growth, output.with_suffix(".png"))
    reliability_file = REPO / "var" / "reliability-figures.json"
    reliability = (
        json.loads(reliability_file.read_text()) if reliability_file.exists() else None
    )
    text = markdown(figures, growth, runs, image, reliability)
    if args.quick:
        note = f"\n\nReduced sizes (`--quick`): {QUICK_NOTE}\n\n"
        text = text.replace("\n\n", note, 1)
    output.write_text(text)
    print(f"== wrote {output} and {image}")
    failed = [name for name, (status, _s) in runs.items() if status]
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
