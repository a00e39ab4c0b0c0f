"""What applying a change set did, table by table, for people and for the log table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from alembic_seeds.changes.changeset import row_counts


@dataclass
class TableReport:
    table: str
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    #: Rows the change set touches that needed no write (an identical row was there).
    unchanged: int = 0
    #: Mismatching rows written anyway (-x seeds_drift=overwrite).
    overwritten: int = 0
    #: Mismatching rows left as they were (-x seeds_drift=skip).
    skipped: int = 0
    statements: int = 0
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        written = self.inserted + self.updated + self.deleted
        return written / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ApplyReport:
    tables: list[TableReport] = field(default_factory=list)
    mismatches: list[Any] = field(default_factory=list)
    policy: str = "error"
    seconds: float = 0.0
    #: Statements that read the tables' columns before anything else (in the total only).
    reading_statements: int = 0

    def total(self) -> TableReport:
        total = TableReport("total", seconds=self.seconds, statements=self.reading_statements)
        for table in self.tables:
            total.inserted += table.inserted
            total.updated += table.updated
            total.deleted += table.deleted
            total.unchanged += table.unchanged
            total.overwritten += table.overwritten
            total.skipped += table.skipped
            total.statements += table.statements
        return total

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            table.table: {
                **row_counts(table.inserted, table.updated, table.deleted),
                "unchanged": table.unchanged,
            }
            for table in self.tables
        }

    def lines(self) -> list[str]:
        """One line per table and a total, aligned for a terminal or a log."""
        width = max([len(t.table) for t in self.tables] + [5])
        rows = [*self.tables, self.total()]
        lines = []
        for table in rows:
            text = (
                f"{table.table:<{width}}  inserted {table.inserted:>7}  updated {table.updated:>6}"
                f"  deleted {table.deleted:>6}  unchanged {table.unchanged:>6}"
                f"  statements {table.statements:>3}  {table.seconds * 1000:>8.1f} ms"
                f"  {table.rows_per_second:>9.0f} rows/s"
            )
            if table.overwritten or table.skipped:
                text += f"  overwritten {table.overwritten}  skipped {table.skipped}"
            lines.append(text)
        return lines
