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

    @property
    def median(self) -> float | None:
        return statistics.median(self.runs) if self.runs else None

    @property
    def rows_per_second(self) -> float | None:
        median = self.median
        return None if median is None else self.rows / median


@dataclass
class Timed:
    """A command timed once: seconds and peak RSS (MB, 0 when not measured)."""

    seconds: float
    rss_mb: float = 0.0


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

    @property
    def ratio(self) -> float:
        return statistics.median(self.upgrade) / statistics.median(self.current)


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
    incremental: list[IncrementalResult] = field(default_factory=list)
    noop: list[NoopResult] = field(default_factory=list)
    #: 1-minute load average of the machine when each scale started and ended.
    load: dict[int, tuple[float, float]] = field(default_factory=dict)
    schema_seconds: float = 0.0
    total_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def cell(self, contender: str, scale: int) -> Cell | None:
        for cell in self.cells:
            if cell.contender == contender and cell.scale == scale:
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
            "incremental": [{**vars(i), "median": i.median} for i in self.incremental],
            "noop": [{**vars(n), "ratio": n.ratio} for n in self.noop],
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

        derived = ("median", "rows_per_second", "ratio")
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
            incremental=[
                IncrementalResult(**{k: v for k, v in i.items() if k not in derived})
                for i in data["incremental"]
            ],
            noop=[
                NoopResult(**{k: v for k, v in n.items() if k not in derived}) for n in data["noop"]
            ],
            load={int(s): (v[0], v[1]) for s, v in data.get("load", {}).items()},
            schema_seconds=data["schema_seconds"],
            total_seconds=data["total_seconds"],
            notes=list(data.get("notes", [])),
        )
