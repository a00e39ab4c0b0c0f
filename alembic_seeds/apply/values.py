"""Values between their JSON form (datasets, change sets) and their database form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa


def to_database(column: sa.Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, sa.DateTime) and isinstance(value, str):
        return datetime.fromisoformat(value)
    if isinstance(column.type, sa.Float) and isinstance(value, int):
        return float(value)
    return value


def from_database(column: sa.ColumnElement[Any], value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(column.type, sa.Float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
