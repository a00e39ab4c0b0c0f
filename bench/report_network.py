"""The report's sections on the runs through the latency relay."""

from __future__ import annotations

from collections.abc import Callable

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

    def timed(contender: str, scale: int, rtt: float | None) -> str:
        text = _time(results.cell(contender, scale, rtt))
        ratio = _ratio(results, contender, "engine", scale, rtt)
        if contender in PER_ROW and ratio is not None:
            text += f" ({times(ratio)})"
        return text

    lines += _rows(OVER_NETWORK, rtts, scales, timed)
    lines += [
        "",
        "#### Per-row ÷ engine (time of the per-row contender ÷ time of the engine)",
        "",
        f"| per-row contender | round trip | {' | '.join(f'x{s}' for s in scales)} |",
        "|---|---|" + "---:|" * len(scales),
    ]

    def ratios(contender: str, scale: int, rtt: float | None) -> str:
        engine = _ratio(results, contender, "engine", scale, rtt)
        upgrade = _ratio(results, contender, "upgrade", scale, rtt)
        text = "-" if engine is None else f"{times(engine)} `apply_changes`"
        if engine is not None and upgrade is not None:
            text += f", {times(upgrade)} `alembic upgrade heads`"
        return text

    lines += _rows(PER_ROW, rtts, scales, ratios)
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


def _rows(
    contenders: tuple[str, ...],
    rtts: list[float | None],
    scales: list[int],
    text: Callable[[str, int, float | None], str],
) -> list[str]:
    """One table row per contender and round trip, one cell per scale."""
    return [
        f"| {SHORT[c]} | {_round_trip(rtt)} | " + " | ".join(text(c, s, rtt) for s in scales) + " |"
        for c in contenders
        for rtt in rtts
    ]


def _ratio(
    results: Results, contender: str, against: str, scale: int, rtt_ms: float | None
) -> float | None:
    """Median time of ``contender`` ÷ that of ``against``, same scale and round trip."""
    mine = _median(results.cell(contender, scale, rtt_ms))
    theirs = _median(results.cell(against, scale, rtt_ms))
    return mine / theirs if mine and theirs else None


def speedup_over_network(results: Results, scale: int) -> str:
    """``through +0.5 ms: 32.1x; through +2 ms: 72.2x`` for the per-row goal's text."""
    parts = []
    for rtt in results.rtts_ms:
        ratio = _ratio(results, "per_row", "engine", scale, rtt)
        if ratio is not None:
            parts.append(f"through +{rtt:g} ms: {times(ratio)}")
    return "; ".join(parts)
