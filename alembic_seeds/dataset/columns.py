"""Checking JSON values against the columns they are written into."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa


class ValueProblem(ValueError):
    """A value that does not fit its column; ``rule`` is ``wrong-type`` or ``bad-enum``."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


def value_checker(column: sa.Column[Any]) -> Callable[[Any], None]:
    """``check_value`` for one column, with the common case (a string in a text column)
    decided without looking at the column again: it runs once per value of a large load."""
    column_type = column.type
    plain_text = isinstance(column_type, sa.String) and not isinstance(column_type, sa.Enum)
    if plain_text:

        def check_text(value: Any) -> None:
            if value.__class__ is not str:
                check_value(column, value)

        return check_text
    if isinstance(column_type, sa.Enum):
        allowed = frozenset(column_type.enums)

        def check_enum(value: Any) -> None:
            if value.__class__ is not str or value not in allowed:
                check_value(column, value)

        return check_enum
    return lambda value: check_value(column, value)


def check_value(column: sa.Column[Any], value: Any) -> None:
    """Raise ``ValueProblem`` unless ``value`` (parsed JSON) can be stored in ``column``."""
    if value is None:
        if not column.nullable:
            raise ValueProblem("wrong-type", f"{column.name} must not be null")
        return
    column_type = column.type
    if isinstance(column_type, sa.Enum):
        allowed = list(column_type.enums)
        if not isinstance(value, str) or value not in allowed:
            raise ValueProblem(
                "bad-enum", f"{column.name} is {value!r}, expected one of {', '.join(allowed)}"
            )
        return
    if isinstance(column_type, sa.Boolean):
        expected: tuple[type, ...] = (bool,)
        name = "a boolean"
    elif isinstance(column_type, sa.Integer):
        if isinstance(value, int) and not isinstance(value, bool):
            return
        raise ValueProblem("wrong-type", f"{column.name} must be an integer, not {_show(value)}")
    elif isinstance(column_type, sa.Float | sa.Numeric):
        if isinstance(value, int | float) and not isinstance(value, bool):
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueProblem("wrong-type", f"{column.name} must be a finite number")
            return
        raise ValueProblem("wrong-type", f"{column.name} must be a number, not {_show(value)}")
    elif isinstance(column_type, sa.DateTime):
        if isinstance(value, str):
            try:
                datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                return
        raise ValueProblem(
            "wrong-type", f"{column.name} must be an ISO 8601 date-time, not {_show(value)}"
        )
    else:
        expected, name = (str,), "a string"
    if not isinstance(value, expected):
        raise ValueProblem("wrong-type", f"{column.name} must be {name}, not {_show(value)}")


def _show(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list"}.get(
        type(value), "object" if isinstance(value, dict) else type(value).__name__
    )
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"
