"""Progress of long tables on a terminal: rows done of total, and the rate.

Only when stderr is a terminal; logs and CI output stay free of progress lines.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from alembic_seeds.apply.progress import Progress


class TerminalProgress:
    """Rewrites one status line at most twice a second."""

    def __init__(self, stream: TextIO, interval: float = 0.5) -> None:
        self.stream = stream
        self.interval = interval
        self.started: dict[str, float] = {}
        self.shown = 0.0

    def __call__(self, table: str, done: int, total: int) -> None:
        now = time.perf_counter()
        started = self.started.setdefault(table, now)
        if done < total and now - self.shown < self.interval:
            return
        self.shown = now
        rate = done / (now - started) if now > started else 0.0
        line = f"  {table}: {done:,}/{total:,} rows ({rate:,.0f} rows/s)"
        end = "\n" if done >= total else ""
        self.stream.write(f"\r\x1b[2K{line}{end}")
        self.stream.flush()


def terminal_progress(stream: TextIO | None = None) -> Progress | None:
    """A progress printer for ``stream`` (stderr) when it is a terminal, else None."""
    stream = stream or sys.stderr
    return TerminalProgress(stream) if stream.isatty() else None
