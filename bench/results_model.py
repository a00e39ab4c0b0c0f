"""What one benchmark run measured, in a form that is printed, plotted and saved as JSON."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

#: Contenders in the order the tables list them, with the label people read.
CONTENDERS: dict[str, str] = {
    "upgrade": "`alembic upgrade heads`, whole command, empty database (schema + data)",
    "engine": "engine alone: `apply_changes` (all rows as inserts) + commit",
    "per_row": "per row: SELECT by key, then INSERT/UPDATE (psycopg, one transaction)",
    "per_row_autocommit": "per row as above, autocommit (each statement its own transaction, "
    "as the Prisma seed ran)",
    "orm": "ORM `session.merge()` per row (join tables: one `session.execute` insert per row)",
    "copy": "floor: COPY into the indexed tables, FK order, no diffing",
}
#: The contenders measured through the latency relay (the COPY floor is not).
OVER_NETWORK = ("upgrade", "engine", "per_row", "per_row_autocommit", "orm")
#: The commands timed on the database an upgrade filled, each with its label.
COMMANDS: dict[str, str] = {
    "show": "`seeds show seeds@head` (the import revision, every row)",
    "check": "`seeds check --db`",
    "diff": "`seeds diff --db`",
}
SHORT: dict[str, str] = {
    "upgrade": "alembic upgrade heads",
    "engine": "engine (apply_changes)",
    "per_row": "per-row SELECT+INSERT",
    "per_row_autocommit": "per-row, autocommit",
    "orm": "ORM merge per row",
    "copy": "COPY floor",
}


@dataclass
class Cell:
    """One contender at one scale: its run times, or why it did not run."""

    contender: str
    scale: int
    rows: int
    runs: list[float] = field(default_factory=list)
    #: Peak RSS per run, MB (commands run as a subprocess only).
    rss_mb: list[float] = field(default_factory=list)
    stopped: str = ""
    #: Round trip the latency relay added (ms); None: straight to the server, no relay.
    rtt_ms: float | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def rows_per_second(self) -> float | None:
        median = self.median
        return None if median is None else self.rows / median


@dataclass
class Timed:
    """A command timed once: seconds, peak RSS (MB) and CPU seconds (0 when not measured)."""

    seconds: float
    rss_mb: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class ProxyCheck:
    """``SELECT 1`` round trips straight to the server and through the relay (ms)."""

    rtt_ms: float
    direct: list[float]
    proxied: list[float]
    #: The round trip the relay was told to hold: ``rtt_ms`` less its own cost at 0 ms.
    delay_ms: float = 0.0

    @property
    def direct_ms(self) -> float:
        return statistics.median(self.direct)

    @property
    def proxied_ms(self) -> float:
        return statistics.median(self.proxied)

    @property
    def added_ms(self) -> float:
        return self.proxied_ms - self.direct_ms

    @property
    def added_low_ms(self) -> float:
        """Added at the lower quartiles: the relay's cost when nothing else wants the CPU
        (the median moves with the machine's load)."""
        return (
            statistics.quantiles(self.proxied, n=4)[0] - statistics.quantiles(self.direct, n=4)[0]
        )

    @property
    def proxied_p90_ms(self) -> float:
        """The slow round trips a busy machine gives (the relay and the server wait for a CPU)."""
        return statistics.quantiles(self.proxied, n=10)[-1]


@dataclass
class IncrementalResult:
    scale: int
    rows: int
    changed: int
    runs: list[float]
    load_seconds: float

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


@dataclass
class NoopResult:
    scale: int
    upgrade: list[float]
    current: list[float]
    writes: dict[str, int]
    commits: int
    #: ``alembic current`` of a bare Alembic project (no revisions) on the same database.
    bare_current: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.upgrade) / statistics.median(self.current)

    @property
    def startup_ratio(self) -> float | None:
        """This project's ``alembic current`` against bare Alembic's."""
        if not self.bare_current:
            return None
        return statistics.median(self.current) / statistics.median(self.bare_current)


@dataclass
class HistoryResult:
    """``seeds check`` and ``seeds show seeds@head`` over one dataset with ``revisions``
    data revisions (``bench/history.py``): wall and CPU seconds of each run."""

    scale: int
    revisions: int
    #: ``seeds check`` with no replay cache (a full replay).
    cold: list[float] = field(default_factory=list)
    cold_cpu: list[float] = field(default_factory=list)
    #: ``seeds check`` with the cache the run before left.
    warm: list[float] = field(default_factory=list)
    warm_cpu: list[float] = field(default_factory=list)
    warm_rss_mb: float = 0.0
    show: list[float] = field(default_factory=list)
    show_cpu: list[float] = field(default_factory=list)
    #: ``replay_branch`` alone, in process (CPU seconds): without the cache, with it.
    replay_cold: list[float] = field(default_factory=list)
    replay_warm: list[float] = field(default_factory=list)


@dataclass
class Results:
    machine: str
    seed: int
    scales: list[int]
    reps: dict[int, int]
    budget: float
    cells: list[Cell] = field(default_factory=list)
    generate: dict[int, Timed] = field(default_factory=dict)
    seeddata: dict[int, Timed] = field(default_factory=dict)
    autogenerate: dict[int, Timed] = field(default_factory=dict)
    #: Scale -> command (``COMMANDS``) -> its run on the database the upgrade filled.
    commands: dict[int, dict[str, Timed]] = field(default_factory=dict)
    #: The latency relay checked at the start of the run, one per round trip.
    proxy: list[ProxyCheck] = field(default_factory=list)
    #: Round trips measured (ms), and how many per-row runs went at once through the relay.
    rtts_ms: list[float] = field(default_factory=list)
    latency_jobs: int = 1
    incremental: list[IncrementalResult] = field(default_factory=list)
    noop: list[NoopResult] = field(default_factory=list)
    history: list[HistoryResult] = field(default_factory=list)
    #: 1-minute load average of the machine when each scale started and ended.
    load: dict[int, tuple[float, float]] = field(default_factory=dict)
    schema_seconds: float = 0.0
    total_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def cell(self, contender: str, scale: int, rtt_ms: float | None = None) -> Cell | None:
        """The cell of ``contender`` at ``scale``, straight or through a ``rtt_ms`` relay."""
        for cell in self.cells:
            if cell.contender == contender and cell.scale == scale and cell.rtt_ms == rtt_ms:
                return cell
        return None

    def rows(self, scale: int) -> int:
        for cell in self.cells:
            if cell.scale == scale:
                return cell.rows
        return 0

    def to_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "seed": self.seed,
            "scales": self.scales,
            "reps": self.reps,
            "budget_seconds": self.budget,
            "cells": [
                {**vars(c), "median": c.median, "rows_per_second": c.rows_per_second}
                for c in self.cells
            ],
            "generate": {s: vars(t) for s, t in self.generate.items()},
            "seeddata": {s: vars(t) for s, t in self.seeddata.items()},
            "autogenerate": {s: vars(t) for s, t in self.autogenerate.items()},
            "commands": {
                s: {name: vars(t) for name, t in timed.items()}
                for s, timed in self.commands.items()
            },
            "proxy": [
                {**vars(p), "direct_ms": p.direct_ms, "proxied_ms": p.proxied_ms}
                for p in self.proxy
            ],
            "rtts_ms": self.rtts_ms,
            "latency_jobs": self.latency_jobs,
            "incremental": [{**vars(i), "median": i.median} for i in self.incremental],
            "noop": [
                {**vars(n), "ratio": n.ratio, "startup_ratio": n.startup_ratio} for n in self.noop
            ],
            "history": [vars(h) for h in self.history],
            "load": self.load,
            "schema_seconds": self.schema_seconds,
            "total_seconds": self.total_seconds,
            "notes": self.notes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Results:
        """The inverse of ``to_json`` (to render a saved run again)."""
        scales = [int(s) for s in data["scales"]]

        def timed(entries: dict[str, Any]) -> dict[int, Timed]:
            return {int(s): Timed(**t) for s, t in entries.items()}

        derived = ("median", "rows_per_second", "ratio", "startup_ratio")
        return cls(
            machine=data["machine"],
            seed=data["seed"],
            scales=scales,
            reps={int(s): n for s, n in data["reps"].items()},
            budget=data["budget_seconds"],
            cells=[Cell(**{k: v for k, v in c.items() if k not in derived}) for c in data["cells"]],
            generate=timed(data["generate"]),
            seeddata=timed(data["seeddata"]),
            autogenerate=timed(data["autogenerate"]),
            commands={
                int(s): {name: Timed(**t) for name, t in timed_commands.items()}
                for s, timed_commands in data.get("commands", {}).items()
            },
            proxy=[
                ProxyCheck(p["rtt_ms"], p["direct"], p["proxied"], p.get("delay_ms", 0.0))
                for p in data.get("proxy", [])
            ],
            rtts_ms=[float(r) for r in data.get("rtts_ms", [])],
            latency_jobs=int(data.get("latency_jobs", 1)),
            incremental=[
                IncrementalResult(**{k: v for k, v in i.items() if k not in derived})
                for i in data["incremental"]
            ],
            noop=[
                NoopResult(**{k: v for k, v in n.items() if k not in derived}) for n in data["noop"]
            ],
            history=[HistoryResult(**h) for h in data.get("history", [])],
            load={int(s): (v[0], v[1]) for s, v in data.get("load", {}).items()},
            schema_seconds=data["schema_seconds"],
            total_seconds=data["total_seconds"],
            notes=list(data.get("notes", [])),
        )
