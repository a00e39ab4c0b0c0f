"""Checking JSON values against the columns they are written into."""

from __future__ import annotations

import math
import re
import unicodedata
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


#: Characters no stored text may hold: C0 controls but tab and line breaks, DEL, lone
#: surrogates, and the bidirectional embeddings, overrides and isolates (they can make a
#: text or a key read differently from what it is).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")

#: Bounds of a 32-bit INTEGER column.
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def check_text(name: str, value: str) -> None:
    """Raise ``ValueProblem`` for text that would not survive or not read as written."""
    if value.isascii() and value.isprintable():
        return  # most texts: no control character, and ASCII is always in NFC form
    found = _FORBIDDEN.search(value)
    if found is not None:
        char = found.group()
        rule = "bidi-control" if "\u202a" <= char <= "\u2069" else "control-character"
        raise ValueProblem(rule, f"{name} holds U+{ord(char):04X} at position {found.start()}")
    if not unicodedata.is_normalized("NFC", value):
        raise ValueProblem(
            "not-nfc",
            f"{name} is not in Unicode NFC form (normalize it: the database compares "
            "texts byte for byte)",
        )


def value_checker(column: sa.Column[Any]) -> Callable[[Any], None]:
    """``check_value`` for one column, with the common case (a string in a text column)
    decided without looking at the column again: it runs once per value of a large load."""
    column_type = column.type
    plain_text = isinstance(column_type, sa.String) and not isinstance(column_type, sa.Enum)
    if plain_text:
        key = column.primary_key

        def check_plain_text(value: Any) -> None:
            if value.__class__ is not str:
                check_value(column, value)
            check_text(column.name, value)
            if key and value != value.strip():
                raise ValueProblem("bad-id", f"{column.name} {value!r} has spaces at its ends")

        return check_plain_text
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
            if not isinstance(column_type, sa.BigInteger) and not _INT_MIN <= value <= _INT_MAX:
                raise ValueProblem(
                    "wrong-type", f"{column.name} {value} is out of the range of an INTEGER"
                )
            return
        raise ValueProblem("wrong-type", f"{column.name} must be an integer, not {_show(value)}")
    elif isinstance(column_type, sa.Float | sa.Numeric):
        if isinstance(value, int | float) and not isinstance(value, bool):
            try:
                finite = math.isfinite(float(value))
            except OverflowError:
                finite = False
            if not finite:
                raise ValueProblem("wrong-type", f"{column.name} must be a finite number")
            return
        raise ValueProblem("wrong-type", f"{column.name} must be a number, not {_show(value)}")
    elif isinstance(column_type, sa.DateTime):
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                # One spelling per instant, the one the database gives back, so that a
                # value read from the database compares equal to the one written here.
                if parsed.tzinfo is None and parsed.isoformat() == value:
                    return
        raise ValueProblem(
            "wrong-type",
            f"{column.name} must be a date-time like 2025-08-13T09:30:00 (no UTC offset), "
            f"not {_show(value)}",
        )
    else:
        expected, name = (str,), "a string"
    if not isinstance(value, expected):
        raise ValueProblem("wrong-type", f"{column.name} must be {name}, not {_show(value)}")
    if isinstance(value, str):
        check_text(column.name, value)


def _show(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list"}.get(
        type(value), "object" if isinstance(value, dict) else type(value).__name__
    )
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{kind} {text}"
