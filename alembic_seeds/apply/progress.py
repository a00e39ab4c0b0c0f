"""How the apply engine reports the progress of long bulk loads: a callback the caller
passes (the engine never prints; ``alembic_seeds.migration.progress`` has a terminal one)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, table: str, done: int, total: int) -> None: ...


#: Rows between two progress calls from the apply engine.
EVERY_ROWS = 20_000
