"""The report's sections on the runs through the latency relay."""

from __future__ import annotations

from bench.results_model import OVER_NETWORK, SHORT, Cell, Results
from bench.units import milliseconds, seconds, times

PER_ROW = ("per_row", "per_row_autocommit", "orm")


def _round_trip(rtt_ms: float | None) -> str:
    return "direct (loopback)" if rtt_ms is None else f"+{rtt_ms:g} ms"


def _median(cell: Cell | None) -> float | None:
    return None if cell is None else cell.median


def _time(cell: Cell | None) -> str:
    if cell is None:
        return "-"
    if cell.median is None:
        return cell.stopped or "-"
    return seconds(cell.median)


def proxy_section(results: Results) -> list[str]:
    """How much the relay really adds to a round trip, and its cost with no delay."""
    if not results.proxy:
        return []
    first = results.scales[0]
    direct = _median(results.cell("per_row", first))
    lines = [
        "",
        "### The latency relay, checked in this run",
        "",
        "`bench/latency.py` relays each connection to the server, holding every chunk half "
        "its delay in each direction; the delay is the round trip asked for less the relay's "
        "own cost, measured first through a relay with no delay (the difference of the lower "
        "quartiles, which a busy machine moves less than the medians). `SELECT 1` round trips on "
        f"one connection, {len(results.proxy[0].proxied)} of each, straight to the server "
        f"and through the relay; per-row: the per-row contender (one transaction) at x{first}.",
        "",
        "| round trip asked for | delay held | `SELECT 1` direct (median) | through the relay: "
        f"median (90th percentile) | added by the relay (median) | per-row at x{first} |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for check in results.proxy:
        relayed = _median(results.cell("per_row", first, check.rtt_ms))
        per_row = "-" if relayed is None else seconds(relayed)
        if relayed is not None and direct and check.rtt_ms == 0:
            per_row += f" (direct: {seconds(direct)}, {(relayed / direct - 1) * 100:+.0f} %)"
        lines.append(
            f"| {check.rtt_ms:g} ms | {milliseconds(check.delay_ms)} | "
            f"{milliseconds(check.direct_ms)} | {milliseconds(check.proxied_ms)} "
            f"({milliseconds(check.proxied_p90_ms)}) | +{milliseconds(check.added_ms)} | "
            f"{per_row} |"
        )
    return lines


def _relayed_scales(results: Results) -> list[int]:
    return [
        s
        for s in results.scales
        if any(results.cell(c, s, r) for c in OVER_NETWORK for r in results.rtts_ms)
    ]


def latency_section(results: Results) -> list[str]:
    """Every contender straight and through each round trip; per-row ÷ engine ratios."""
    scales = _relayed_scales(results)
    if not scales or not results.rtts_ms:
        return []
    rtts: list[float | None] = [None, *results.rtts_ms]
    header = " | ".join(f"x{s} ({results.rows(s):,} rows)" for s in scales)
    lines = [
        "",
        "### Over a network: every round trip made longer by the relay",
        "",
        "Each contender as above, its connections through the relay (the `alembic upgrade "
        "heads` command too). The engine and the upgrade run alone and as many times as the "
        "direct runs; the per-row contenders take one round trip per row and spend most "
        "of their time waiting, so they run "
        + (
            "one at a time"
            if results.latency_jobs == 1
            else f"beside each other, each in its own process and database: up to "
            f"{results.latency_jobs} at once, the longest first, and those below "
            f"+{max(results.rtts_ms):g} ms (more of their time is work) one at a time"
        )
        + f"; {_per_row_runs(results, scales)}. In brackets: time ÷ the engine's "
        "(`apply_changes`) time at the same scale and round trip.",
        "",
        f"| contender | round trip | {header} |",
        "|---|---|" + "---:|" * len(scales),
    ]
    for contender in OVER_NETWORK:
        for rtt in rtts:
            cells = []
            for s in scales:
                cell = results.cell(contender, s, rtt)
                text = _time(cell)
                engine = _median(results.cell("engine", s, rtt))
                mine = _median(cell)
                if contender in PER_ROW and engine and mine:
                    text += f" ({times(mine / engine)})"
                cells.append(text)
            lines.append(f"| {SHORT[contender]} | {_round_trip(rtt)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "#### Per-row ÷ engine (time of the per-row contender ÷ time of the engine)",
        "",
        f"| per-row contender | round trip | {' | '.join(f'x{s}' for s in scales)} |",
        "|---|---|" + "---:|" * len(scales),
    ]
    for contender in PER_ROW:
        for rtt in rtts:
            cells = []
            for s in scales:
                mine = _median(results.cell(contender, s, rtt))
                engine = _median(results.cell("engine", s, rtt))
                upgrade = _median(results.cell("upgrade", s, rtt))
                if not mine or not engine:
                    cells.append("-")
                    continue
                text = f"{times(mine / engine)} `apply_changes`"
                if upgrade:
                    text += f", {times(mine / upgrade)} `alembic upgrade heads`"
                cells.append(text)
            lines.append(f"| {SHORT[contender]} | {_round_trip(rtt)} | " + " | ".join(cells) + " |")
    return lines


def _per_row_runs(results: Results, scales: list[int]) -> str:
    """How many runs each per-row cell through the relay took, by scale."""
    counts = []
    for s in scales:
        runs = {
            len(c.runs)
            for contender in PER_ROW
            for r in results.rtts_ms
            if (c := results.cell(contender, s, r)) is not None and c.runs
        }
        if runs:
            label = " or ".join(str(n) for n in sorted(runs))
            counts.append(f"{label} run{'s' if max(runs) > 1 else ''} at x{s}")
    return "per-row cells: " + (", ".join(counts) if counts else "none run")


def speedup_over_network(results: Results, scale: int) -> str:
    """``at +0.5 ms: 55x; at +2 ms: 180x`` for the per-row goal's measured text."""
    parts = []
    for rtt in results.rtts_ms:
        mine = _median(results.cell("per_row", scale, rtt))
        engine = _median(results.cell("engine", scale, rtt))
        if mine and engine:
            parts.append(f"through +{rtt:g} ms: {times(mine / engine)}")
    return "; ".join(parts)
