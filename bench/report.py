"""The benchmark's results as a markdown report, its goals as PASS/MISS, and a plot."""

from __future__ import annotations

import statistics
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report_network import latency_section, proxy_section, speedup_over_network
from bench.results_model import (
    COMMANDS,
    CONTENDERS,
    OVER_NETWORK,
    SHORT,
    Cell,
    HistoryResult,
    Results,
    Timed,
)
from bench.units import rate, seconds

GOAL_SCALE = 1000


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    measured: str
    #: The number compared with the target (a ratio, or seconds / MB against the limit).
    ratio: float | None
    passed: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else ("PASS" if self.passed else "MISS")


def _largest(results: Results, *contenders: str) -> int | None:
    """The goal scale if every contender ran there, else the largest scale they all ran."""
    scales = [
        s
        for s in results.scales
        if all((c := results.cell(name, s)) is not None and c.runs for name in contenders)
    ]
    if not scales:
        return None
    return GOAL_SCALE if GOAL_SCALE in scales else max(scales)


def _at(scale: int) -> str:
    return "" if scale == GOAL_SCALE else f" (measured at x{scale}, not x{GOAL_SCALE})"


#: The whole `alembic upgrade heads` at x1 (seconds), and the incremental revision's
#: x1000 ÷ x10 time.
UPGRADE_X1_GOAL = 0.5
INCREMENTAL_GOAL = 1.2


def _goal_upgrade_x1(results: Results) -> Goal:
    name = "x1 `alembic upgrade heads`, whole command"
    target = f"< {seconds(UPGRADE_X1_GOAL)}"
    upgrade = results.cell("upgrade", 1)
    if upgrade is None or upgrade.median is None:
        return Goal(name, target, "-", None, None)
    m = upgrade.median
    return Goal(name, target, seconds(m), m / UPGRADE_X1_GOAL, m < UPGRADE_X1_GOAL)


def _goal_speedup(results: Results) -> Goal:
    name = "engine alone vs per-row at x1 (speed-up)"
    engine, per_row = results.cell("engine", 1), results.cell("per_row", 1)
    if not (engine and per_row and engine.median and per_row.median):
        return Goal(name, ">= 30x", "-", None, None)
    ratio = per_row.median / engine.median
    measured = f"{seconds(per_row.median)} / {seconds(engine.median)}"
    floor = results.cell("copy", 1)
    if floor is not None and floor.median:
        measured += f"; COPY floor: {per_row.median / floor.median:.1f}x"
    autocommit = results.cell("per_row_autocommit", 1)
    if autocommit is not None and autocommit.median:
        measured += f"; vs per-row autocommit: {autocommit.median / engine.median:.1f}x"
    over_network = speedup_over_network(results, 1)
    if over_network:
        measured += f"; per-row {over_network}"
    return Goal(name, ">= 30x", measured, ratio, ratio >= 30)


def _goal_floor(results: Results) -> Goal:
    name = "engine rows/s / COPY floor rows/s at x1000"
    scale = _largest(results, "engine", "copy")
    if scale is None:
        return Goal(name, ">= 0.5", "-", None, None)
    e, c = results.cell("engine", scale), results.cell("copy", scale)
    assert e is not None and c is not None and e.median and c.median
    ratio = c.median / e.median
    measured = f"{rate(e.rows / e.median)} / {rate(c.rows / c.median)} rows/s{_at(scale)}"
    return Goal(name, ">= 0.5", measured, ratio, ratio >= 0.5)


def _goal_incremental(results: Results) -> Goal:
    name = "incremental 1,000 rows: x1000 time / x10 time"
    target = f"<= {INCREMENTAL_GOAL:g}"
    if len(results.incremental) < 2:
        return Goal(name, target, "-", None, None)
    small, large = results.incremental[0], results.incremental[-1]
    ratio = large.median / small.median
    measured = (
        f"{seconds(large.median)} at x{large.scale} / {seconds(small.median)} at x{small.scale}"
    )
    return Goal(name, target, measured, ratio, ratio <= INCREMENTAL_GOAL)


def _goal_noop(results: Results) -> Goal:
    name = "no-op `alembic upgrade heads` / `alembic current`"
    if not results.noop:
        return Goal(name, "<= 1.2", "-", None, None)
    noop = results.noop[-1]
    written = sum(noop.writes.values())
    measured = (
        f"{seconds(statistics.median(noop.upgrade))} / "
        f"{seconds(statistics.median(noop.current))} at x{noop.scale}, {written} rows written"
    )
    return Goal(name, "<= 1.2", measured, noop.ratio, noop.ratio <= 1.2 and not written)


def _goal_rss(results: Results) -> Goal:
    name = "peak RSS of `alembic upgrade heads` at x1000"
    scale = _largest(results, "upgrade")
    if scale is None:
        return Goal(name, "< 300 MB", "-", None, None)
    cell = results.cell("upgrade", scale)
    assert cell is not None
    peak = max(cell.rss_mb)
    return Goal(name, "< 300 MB", f"{peak:.0f} MB{_at(scale)}", peak, peak < 300)


def _goal_autogenerate(results: Results) -> Goal:
    name = "`seeds revision --autogenerate` at x1000"
    if not results.autogenerate:
        return Goal(name, "< 15 s", "-", None, None)
    scale = GOAL_SCALE if GOAL_SCALE in results.autogenerate else max(results.autogenerate)
    took = results.autogenerate[scale].seconds
    return Goal(name, "< 15 s", f"{seconds(took)}{_at(scale)}", took, took < 15)


def _goal_autogenerate_rss(results: Results) -> Goal:
    name = "peak RSS of `seeds revision --autogenerate` at x1000"
    if not results.autogenerate:
        return Goal(name, "< 400 MB", "-", None, None)
    scale = GOAL_SCALE if GOAL_SCALE in results.autogenerate else max(results.autogenerate)
    peak = results.autogenerate[scale].rss_mb
    return Goal(name, "< 400 MB", f"{peak:.0f} MB{_at(scale)}", peak, peak < 400)


def goals(results: Results) -> list[Goal]:
    """The project's performance goals, each with what this run measured."""
    return [
        _goal_upgrade_x1(results),
        _goal_speedup(results),
        _goal_floor(results),
        _goal_incremental(results),
        _goal_noop(results),
        _goal_rss(results),
        _goal_autogenerate(results),
        _goal_autogenerate_rss(results),
    ]


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value < 100 else f"{value:.0f}"


def _scale_header(results: Results) -> str:
    def runs(scale: int) -> str:
        count = results.reps[scale]
        return "1 run" if count == 1 else f"median of {count}"

    return " | ".join(f"x{s} ({results.rows(s):,} rows, {runs(s)})" for s in results.scales)


def _time_cell(results: Results, cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.median is None:
        return cell.stopped or "-"
    text = seconds(cell.median)
    floor = results.cell("copy", cell.scale)
    if floor is not None and floor.median and cell.contender != "copy":
        text += f" ({cell.median / floor.median:.1f}x COPY)"
    return text


def _command_cell(timed: Timed | None) -> str:
    """``64.1 s (58.2 s CPU) / 2486 MB``; runs saved before CPU time was measured show none."""
    if timed is None:
        return "-"
    cpu = f" ({seconds(timed.cpu_seconds)} CPU)" if timed.cpu_seconds else ""
    return f"{seconds(timed.seconds)}{cpu} / {timed.rss_mb:.0f} MB"


def markdown(results: Results) -> str:
    scales = results.scales
    lines = [
        "## alembic-seeds benchmark",
        "",
        f"Machine: {results.machine}",
        "",
        "Data: the real reference data (x1) and, above it, generated copies of its shape "
        f"(`bench/generate.py`, seed {results.seed}); same rows for every contender, same server, "
        "same run. Cells are the median of the runs named in the header; each run starts "
        "from a fresh database (schema only; `alembic upgrade heads`: empty) after a CHECKPOINT. "
        f"A contender stops when its next scale is predicted (linearly) to take over "
        f"{results.budget:.0f} s.",
        "",
        "### Loading the whole dataset (median wall time; x COPY = time ÷ COPY floor's time)",
        "",
        f"| contender | {_scale_header(results)} |",
        "|---|" + "---:|" * len(results.scales),
    ]
    for contender, label in CONTENDERS.items():
        cells = [_time_cell(results, results.cell(contender, s)) for s in results.scales]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### Throughput (rows per second, from the medians)",
        "",
        "| contender | " + " | ".join(f"x{s}" for s in results.scales) + " |",
        "|---|" + "---:|" * len(results.scales),
    ]
    for contender in CONTENDERS:
        cells = []
        for s in results.scales:
            cell = results.cell(contender, s)
            per_second = None if cell is None else cell.rows_per_second
            cells.append("-" if per_second is None else rate(per_second))
        lines.append(f"| {SHORT[contender]} | " + " | ".join(cells) + " |")
    lines += proxy_section(results)
    lines += latency_section(results)
    lines += [
        "",
        "### Around the upgrade (per scale; seconds and peak RSS of each command)",
        "",
        "| | " + " | ".join(f"x{s}" for s in results.scales) + " |",
        "|---|" + "---:|" * len(results.scales),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    def upgrade_rss(scale: int) -> str:
        cell = results.cell("upgrade", scale)
        if cell is None or not cell.rss_mb:
            return "-"
        return f"{max(cell.rss_mb):.0f} MB"

    row(
        "peak RSS of `alembic upgrade heads` (max of runs)",
        [upgrade_rss(s) for s in results.scales],
    )
    row(
        "`seeds revision --autogenerate`: time (CPU time) / peak RSS",
        [_command_cell(results.autogenerate.get(s)) for s in results.scales],
    )
    for name, label in COMMANDS.items():
        row(
            f"{label}, on the upgraded database: time (CPU time) / peak RSS",
            [_command_cell(results.commands.get(s, {}).get(name)) for s in results.scales],
        )
    row(
        "writing seeddata/ (`write_seeddata`, in process)",
        [seconds(t.seconds) if (t := results.seeddata.get(s)) else "-" for s in results.scales],
    )
    row(
        "generating the dataset (`bench.generate.generate`)",
        [seconds(t.seconds) if (t := results.generate.get(s)) else "-" for s in results.scales],
    )

    def load(scale: int) -> str:
        if scale not in results.load:
            return "-"
        start, end = results.load[scale]
        return f"{start:.1f} / {end:.1f}"

    row("machine load average (1 min) when the scale started / ended", [load(s) for s in scales])
    if results.incremental:
        lines += [
            "",
            "### Incremental revision: 1,000 changed rows through `apply_changes` + commit",
            "",
            "600 Hebrew-text updates of `Translation`, 200 inserts (100 `Translation`, 50 "
            "`Block`, 50 `Module`), 200 deletes (100 `_ModuleToQuestion`, 100 `_CourseModules` "
            "links); the database was loaded by COPY and `VACUUM ANALYZE`d first; the inverse "
            "change set restores it after each run (not timed).",
            "",
            "| scale | rows in the database | median | runs |",
            "|---|---:|---:|---|",
        ]
        for inc in results.incremental:
            runs = ", ".join(seconds(r) for r in inc.runs)
            lines.append(f"| x{inc.scale} | {inc.rows:,} | {seconds(inc.median)} | {runs} |")
    lines += history_section(results)
    if results.noop:
        lines += [
            "",
            "### No-op: `alembic upgrade heads` on an up-to-date database vs `alembic current`",
            "",
            "Start-up, which every command pays: `alembic current` of this project against "
            "`alembic current` of a bare Alembic project (an env.py that only opens a "
            "connection, no revisions; `bench/startup.py`) on the same database, same Python. "
            "The three commands run interleaved.",
            "",
            "| scale | upgrade heads (median) | current (median) | upgrade ÷ current | "
            "bare Alembic current (median) | current ÷ bare | rows written "
            "(user tables: ins/upd/del) | runs each |",
            "|---|---:|---:|---:|---:|---:|---|---:|",
        ]
        for noop in results.noop:
            up = statistics.median(noop.upgrade)
            cur = statistics.median(noop.current)
            bare = seconds(statistics.median(noop.bare_current)) if noop.bare_current else "-"
            startup = noop.startup_ratio
            w = noop.writes
            lines.append(
                f"| x{noop.scale} | {seconds(up)} | {seconds(cur)} | {noop.ratio:.2f} | "
                f"{bare} | {'-' if startup is None else f'{startup:.2f}'} | "
                f"{w['inserted']}/{w['updated']}/{w['deleted']} | {len(noop.upgrade)} |"
            )
    lines += [
        "",
        "### Goals",
        "",
        "| goal | target | measured | ratio / value | result |",
        "|---|---|---|---:|---|",
    ]
    for goal in goals(results):
        lines.append(
            f"| {goal.name} | {goal.target} | {goal.measured} | {_ratio(goal.ratio)} | "
            f"**{goal.verdict}** |"
        )
    if results.notes:
        lines += ["", *(f"- {note}" for note in results.notes)]
    lines += ["", f"Benchmark wall time: {seconds(results.total_seconds)}."]
    return "\n".join(lines) + "\n"


def history_section(results: Results) -> list[str]:
    """``seeds check`` / ``seeds show`` over 1, 10 and 100 data revisions of the same data."""
    if not results.history:
        return []
    lines = [
        "",
        "### History: the same data under 1, 10 and 100 data revisions",
        "",
        "The import revision, then revisions that each edit the English text of 100 "
        "`Translation` rows (`bench/history.py`); "
        "`seeds check` (no database: replays the branch, reads seeddata/, compares) without "
        "the replay cache (a full replay) and with the cache the run before left, and "
        "`seeds show seeds@head`: median wall time / median CPU time (user + system, which "
        "the machine's other work stretches less), in brackets the CPU time ÷ the CPU time "
        "with 1 revision (for `show`, with 10: with 1 it shows the import revision, every row). "
        "Replay alone: `replay_branch` in the benchmark's process (the revisions loaded "
        "afresh), median CPU time, in brackets ÷ the time with 1 revision.",
        "",
        "| scale | data revisions | `seeds check`, no cache | `seeds check`, cached | "
        "peak RSS (cached) | `seeds show seeds@head` | replay, no cache | replay, cached "
        "| runs each |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    first: dict[int, HistoryResult] = {}
    shown: dict[int, HistoryResult] = {}
    for entry in results.history:
        base = first.setdefault(entry.scale, entry)
        show_base = shown.setdefault(entry.scale, entry) if entry.revisions > 1 else None

        def cell(wall: list[float], cpu: list[float], base_cpu: list[float] | None) -> str:
            median = statistics.median(cpu)
            text = f"{seconds(statistics.median(wall))} / {seconds(median)}"
            if base_cpu:
                text += f" ({median / statistics.median(base_cpu):.2f}x)"
            return text

        def replay(runs: list[float], base_runs: list[float]) -> str:
            if not runs or not base_runs:
                return "-"
            median = statistics.median(runs)
            return f"{seconds(median)} ({median / statistics.median(base_runs):.2f}x)"

        lines.append(
            f"| x{entry.scale} | {entry.revisions} | "
            f"{cell(entry.cold, entry.cold_cpu, base.cold_cpu)} | "
            f"{cell(entry.warm, entry.warm_cpu, base.warm_cpu)} | {entry.warm_rss_mb:.0f} MB | "
            f"{cell(entry.show, entry.show_cpu, show_base.show_cpu if show_base else None)} | "
            f"{replay(entry.replay_cold, base.replay_cold)} | "
            f"{replay(entry.replay_warm, base.replay_warm)} | {len(entry.cold)} |"
        )
    return lines


def plot(results: Results, path: Path) -> None:
    """Time against rows, log-log, one line per contender; beside it, the same through the
    latency relay, one line per contender and round trip."""
    import matplotlib  # noqa: PLC0415 (only the plot needs it)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    relayed = bool(results.rtts_ms)
    figure, panels = plt.subplots(
        1, 2 if relayed else 1, figsize=(16 if relayed else 10, 5.5), squeeze=False
    )
    colours = {contender: f"C{i}" for i, contender in enumerate(CONTENDERS)}
    axes = panels[0][0]
    for contender in CONTENDERS:
        points = _points(results, contender, None)
        if not points:
            continue
        style = "--" if contender == "copy" else "-"
        axes.plot(*points, style, marker="o", color=colours[contender], label=SHORT[contender])
    if results.incremental:
        axes.plot(
            [inc.rows for inc in results.incremental],
            [inc.median for inc in results.incremental],
            ":",
            marker="s",
            color="grey",
            label="incremental 1,000 rows (apply_changes)",
        )
    _log_axes(axes, "alembic-seeds: loading reference data into PostgreSQL (loopback)")
    axes.legend(loc="upper left", fontsize=8)
    if relayed:
        network = panels[0][1]
        styles = (":", "--", "-")  # the longest round trip solid
        for contender in OVER_NETWORK:
            for i, rtt in enumerate(results.rtts_ms):
                points = _points(results, contender, rtt)
                if points:
                    network.plot(
                        *points,
                        styles[max(len(styles) - len(results.rtts_ms) + i, 0)],
                        marker="o",
                        color=colours[contender],
                        label=f"{SHORT[contender]}, +{rtt:g} ms",
                    )
        _log_axes(network, "through the latency relay: round trip added")
        network.legend(loc="upper left", fontsize=7)
    figure.text(0.01, 0.01, textwrap.fill(results.machine, 200), fontsize=6, va="bottom")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _points(
    results: Results, contender: str, rtt_ms: float | None
) -> tuple[list[int], list[float]] | None:
    """Rows and median seconds of ``contender`` at each scale it ran, or None."""
    cells = [
        cell
        for s in results.scales
        if (cell := results.cell(contender, s, rtt_ms)) is not None and cell.median is not None
    ]
    if not cells:
        return None
    return [cell.rows for cell in cells], [cell.median or 0.0 for cell in cells]


def _log_axes(axes: Any, title: str) -> None:
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("rows in the dataset")
    axes.set_ylabel("wall time, seconds (median)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report [results.json]``: print the report of a saved run again and
    redraw its plot next to it."""
    import argparse  # noqa: PLC0415
    import json  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m bench.report")
    default = Path(__file__).resolve().parent / "results" / "results.json"
    parser.add_argument("results", nargs="?", type=Path, default=default)
    args = parser.parse_args(argv)
    results = Results.from_json(json.loads(args.results.read_text()))
    text = markdown(results)
    (args.results.parent / "results.md").write_text(text)
    plot(results, args.results.parent / "bench.png")
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
