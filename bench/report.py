"""Run every benchmark and the growth measure; write bench/REPORT.md and a plot.

    python bench/report.py --config var/bench.conf --db pico_bench
    python bench/report.py --config ... --db ... --only growth --quick

Each ``bench_*.py`` module of this folder runs in its own process (as ``bin/bench``
runs them) against the given database, which must have pico_mes installed and
may be thrown away afterwards (bench_inbound commits). Every figure printed with
a target, ``(target <= 1.2)``, goes into the report with its target and whether
it is met; the figures are ratios against a baseline measured in the same run,
except the few absolute ones (named so in the report). The growth measure
(``bench_growth.py``) adds its curves: the cost of a unit by MO size, pico_mes
beside Odoo's own per-unit path, and along one whole MO; plotted with every
figure against its target to ``bench/REPORT.png`` (``bench/REPORT.svg``, the
curves only, when matplotlib is missing).
"""

import argparse
import json
import math
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
NO_TARGET = re.compile(r"^\s*(?P<label>.+?)\s{2,}(?P<value>.*?)\s*\(no target\)\s*$")
# --quick: reduced sizes, minutes instead of an hour (the report says so)
QUICK = {
    "burst": ["--sizes", "10,50", "--backlog", "400", "--mos", "40"],
    "http_burst": ["--completions", "100", "--rounds", "1"],
    "growth": ["--rounds", "1", "--whole-units", "100"],
}
QUICK_NOTE = (
    "bursts of 10 and 50 completions, a backlog of 400 over 40 MOs, 100 "
    "completions over HTTP per server mode, growth curves up to 500-unit MOs "
    "in one round and a whole 100-unit MO; `bin/bench` without `--quick` runs "
    "the full sizes (growth: the fastest of two rounds, a whole 500-unit MO)."
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


def run(name, args, growth_json=None):
    command = [sys.executable, str(BENCH / f"bench_{name}.py")]
    command += ["--config", args.config, "--db", args.db]
    if growth_json:
        command += ["--json", str(growth_json)]
    if args.quick and not (name == "growth" and args.full_growth):
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
    """The figures with a target in a benchmark's printed tables, and those
    printed ``(no target)``: [(section, label, value)]."""
    figures, untargeted, section = [], [], ""
    for line in lines:
        if line and not line.startswith(" "):
            section = line.strip()
            continue
        plain = NO_TARGET.match(line)
        if plain:
            untargeted.append((name, section, plain["label"].strip(), plain["value"]))
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
    return figures, untargeted


KIND_COLORS = {"untracked": "tab:blue", "lot": "tab:orange", "serial": "tab:green"}


def headroom(figure):
    """How far a figure is on the good side of its target, as a factor: above
    1 when met, whichever way the target points (a ceiling or a floor)."""
    value, target = figure.value, figure.target
    if figure.op in ("<=", "<"):
        return target / value if value else math.inf
    return value / target if target else math.inf


def plot(figures, growth, path):
    """The growth curves and each figure against its target; PNG through
    matplotlib, else a hand-written SVG of the curves."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return svg_curve(growth, path.with_suffix(".svg"))
    fig, axes = plt.subplots(2, 2, figsize=(15, 11))
    if growth.get("curves"):
        plot_sizes(axes[0][0], growth, 1, "SQL queries", 1)
        plot_sizes(axes[0][1], growth, 0, "ms", 1000)
    if growth.get("whole"):
        plot_whole(axes[1][0], growth)
    plot_targets(axes[1][1], figures)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_sizes(ax, growth, position, unit, scale):
    """The first unit of a fresh MO by MO size: pico_mes (solid) beside Odoo's
    own per-unit path (dashed), one colour per kind."""
    sizes = growth["sizes"]
    for kind, result in growth["curves"].items():
        color = KIND_COLORS.get(kind)
        for side, style, label in (
            ("ours", "-", "pico_mes"),
            ("odoo", "--", "Odoo's per-unit path"),
        ):
            values = [point[position] * scale for point in result[side]]
            ax.plot(
                sizes, values, style, color=color, marker="o", label=f"{kind}, {label}"
            )
    ax.set_xlabel("units of the MO")
    ax.set_ylabel(f"{unit} for its first unit")
    ax.set_ylim(bottom=0)
    ax.set_title(f"One unit's completion by MO size: {unit}")
    ax.legend(fontsize="small")


def plot_whole(ax, growth):
    """Each unit of one whole MO, in order, against the median unit of the
    5-unit MOs completed in turn with it."""
    from statistics import median

    twin = ax.twinx()
    for kind, result in growth["whole"].items():
        units = range(len(result["curve"]))
        color = KIND_COLORS.get(kind)
        queries = [p[1] for p in result["curve"]]
        ax.plot(units, queries, color=color, label=f"{kind}, queries")
        twin.plot(
            units, [p[0] * 1000 for p in result["curve"]], color=color, alpha=0.4,
            linestyle=":", label=f"{kind}, ms",
        )  # fmt: skip
        base = median(p[1] for p in result["baseline"])
        ax.axhline(base, color=color, linestyle="--", label=f"{kind}, 5-unit MOs")
    ax.set_xlabel("unit completed, in order (one whole MO)")
    ax.set_ylabel("SQL queries per unit")
    twin.set_ylabel("ms per unit (dotted)")
    ax.set_ylim(bottom=0)
    twin.set_ylim(bottom=0)
    ax.set_title("A whole MO completed unit by unit")
    ax.legend(loc="lower left", fontsize="small")


def bar_name(figure, figures):
    """A figure's bar label; its section's first words where another figure of
    the same benchmark has the same label (one untracked and one serial unit)."""
    name = f"{figure.bench}: {figure.label}"
    twins = [f for f in figures if (f.bench, f.label) == (figure.bench, figure.label)]
    if len(twins) > 1:
        name = f"{name} ({' '.join(figure.section.split()[:3])})"
    return name[:70]


def plot_targets(ax, figures):
    names = [bar_name(f, figures) for f in figures]
    scores = [min(max(headroom(f), 0.05), 100) for f in figures]
    colors = ["tab:green" if f.met else "tab:red" for f in figures]
    positions = range(len(figures))  # one bar each, even where two names meet
    ax.barh(positions, scores, color=colors)
    ax.set_yticks(positions, names)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel(
        "headroom against the target: target / figure for a ceiling, figure / "
        "target for a floor\n(log scale; right of the line is better, green: met)"
    )
    ax.set_title("Each figure against its target")
    ax.tick_params(axis="y", labelsize="x-small")
    ax.invert_yaxis()


def svg_curve(growth, path):
    """Without matplotlib: the serial curve of queries by MO size."""
    width, height = 640, 240
    curves = growth.get("curves", {})
    result = curves.get("serial") or next(iter(curves.values()), None)
    lines = []
    if result:
        top = max(p[1] for side in result.values() for p in side) or 1
        step = width / max(len(growth["sizes"]) - 1, 1)
        for side, color in (("ours", "green"), ("odoo", "gray")):
            points = " ".join(
                f"{i * step:.1f},{height - p[1] / top * (height - 20):.1f}"
                for i, p in enumerate(result[side])
            )
            lines.append(f'<polyline fill="none" stroke="{color}" points="{points}"/>')
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        + "".join(lines)
        + '<text x="4" y="14" font-size="12">queries for the first unit, by MO '
        "size: pico_mes (green), Odoo (gray)</text></svg>"
    )
    return path


def markdown(figures, growth, runs, image, reliability, untargeted=()):
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
        f"![figures and growth curves]({image.name})",
        "",
        "In the plot's bars, right of the line is better than the target, for "
        "every figure: a ceiling (`<=`) shows target / figure, a floor (`>=`) "
        "figure / target.",
        "",
        "| benchmark | figure | kind | value | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        out.append(
            f"| {f.bench} | {f.section}: {f.label} | {f.kind} | {f.value:g} "
            f"| {f.op} {f.target:g} | {'met' if f.met else '**missed**'} |"
        )
    if untargeted:
        out += [
            "",
            "Figures reported without a target:",
            "",
            "| benchmark | figure | value |",
            "|---|---|---|",
        ]
        out += [f"| {b} | {s}: {label} | {v} |" for b, s, label, v in untargeted]
    out += growth_markdown(growth)
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


def growth_markdown(growth):
    out = []
    sizes = growth.get("sizes", [])
    for kind, result in growth.get("curves", {}).items():
        out += [
            "",
            f"## Cost as orders grow: {kind}",
            "",
            "The first unit of a fresh MO of each size: a PICO completion "
            "(pico_mes), and Odoo's own per-unit path (finished and component "
            "lots, produce 1, mark done with a backorder) on an MO of the same "
            "size confirmed without PICO; fastest of the rounds, CPU time of "
            "the Odoo process in brackets.",
            "",
            "| units | pico_mes ms | pico_mes queries | Odoo ms | Odoo queries "
            "| queries, pico_mes / Odoo |",
            "|---|---|---|---|---|---|",
        ]
        for size, ours, odoo in zip(sizes, result["ours"], result["odoo"], strict=True):
            out.append(
                f"| {size} | {ours[0] * 1000:.0f} ({ours[2] * 1000:.0f}) "
                f"| {ours[1]:.0f} | {odoo[0] * 1000:.0f} ({odoo[2] * 1000:.0f}) "
                f"| {odoo[1]:.0f} | {ours[1] / odoo[1]:.2f} |"
            )
    for kind, result in growth.get("whole", {}).items():
        units = result["units"]
        step = max(1, units // 10)
        out += [
            "",
            f"## A whole {units}-unit {kind} MO, unit by unit",
            "",
            f"Every unit of one MO completed in order, each in turn with a unit "
            f"of 5-unit MOs: {result['total_seconds']:.1f} s and "
            f"{result['total_queries']} queries against "
            f"{result['baseline_seconds']:.1f} s and {result['baseline_queries']} "
            f"queries ({result['ratio_seconds']:.2f} and "
            f"{result['ratio_queries']:.2f} times).",
            "",
            "| unit | ms | SQL queries |",
            "|---|---|---|",
        ]
        for index in range(0, units, step):
            seconds, queries = result["curve"][index][:2]
            out.append(f"| {index} | {seconds * 1000:.0f} | {queries} |")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--only", help="comma-separated: sync,outbound,inbound,growth")
    parser.add_argument("--output", default=str(BENCH / "REPORT.md"))
    parser.add_argument(
        "--quick", action="store_true", help="reduced sizes (burst, growth)"
    )
    parser.add_argument(
        "--full-growth",
        action="store_true",
        help="with --quick: the growth measure at its full sizes all the same",
    )
    args = parser.parse_args()
    names = args.only.split(",") if args.only else modules()
    figures, untargeted, runs, growth = [], [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            growth_json = Path(tmp) / "growth.json" if name == "growth" else None
            status, lines, seconds = run(name, args, growth_json)
            runs[name] = (status, seconds)
            parsed, plain = parse(name, lines)
            figures += parsed
            untargeted += plain
            if growth_json and growth_json.exists():
                growth = json.loads(growth_json.read_text())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    image = plot(figures, growth, output.with_suffix(".png"))
    reliability_file = REPO / "var" / "reliability-figures.json"
    reliability = (
        json.loads(reliability_file.read_text()) if reliability_file.exists() else None
    )
    text = markdown(figures, growth, runs, image, reliability, untargeted)
    if args.quick:
        quick_note = QUICK_NOTE
        if args.full_growth:
            quick_note = quick_note.replace(
                "growth curves up to 500-unit MOs in one round and a whole 100-unit MO",
                "growth at its full sizes (`--full-growth`)",
            )
        note = f"\n\nReduced sizes (`--quick`): {quick_note}\n\n"
        text = text.replace("\n\n", note, 1)
    output.write_text(text)
    print(f"== wrote {output} and {image}")
    failed = [name for name, (status, _s) in runs.items() if status]
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
