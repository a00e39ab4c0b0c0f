"""Python source text for generated revisions that any value keeps valid and readable.

A revision's message, the labels in its comments and the values of its change set come from
people (a command line, ``seeddata/``): whatever they hold (backslashes, triple quotes,
line breaks, control or invisible characters, lone surrogates), the file must import and
read back exactly. Printable text is written as it is, so Hebrew reads as Hebrew in a
review; every other character is written as an escape, so nothing in the file is invisible
and the file is plain UTF-8 that formatters and linters leave as it is.
"""

from __future__ import annotations

from typing import Any

#: Escapes Python and people know by their letter.
_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str, *, quote: str = '"') -> str:
    """``text`` as the inside of a Python string literal delimited by ``quote``."""
    if text.isprintable() and "\\" not in text and quote not in text:
        return text  # the common case, decided at C speed
    return "".join(_escape_character(character, quote) for character in text)


def _escape_character(character: str, quote: str) -> str:
    short = _SHORT_ESCAPES.get(character)
    if short is not None:
        return short
    if character == quote:
        return "\\" + character
    if character.isprintable():
        return character
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def literal(value: Any) -> str:
    """A Python literal of a JSON-like value (dict, list, tuple, text, number, None)."""
    if isinstance(value, str):
        return f'"{escape(value)}"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple) and len(value) == 1:
        return f"({literal(value[0])},)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    raise TypeError(f"no literal for a value of type {type(value).__name__}")


def docstring_lines(text: str) -> list[str]:
    """``text`` as lines to sit inside a module docstring (``\"\"\"`` and all).

    Line breaks stay line breaks; a line keeps no whitespace at its ends (formatters remove
    it), and blank lines at the start or end are dropped. Each ``\"`` is escaped, so no run of
    quotes can close the docstring early.
    """
    lines = [escape(line.strip(), quote='"') for line in text.strip().split("\n")]
    return lines or [""]


def comment(text: str, limit: int = 160) -> str:
    """``text`` on one line, fit to follow ``# `` (no line breaks, nothing invisible)."""
    single_line = " ".join(text.split())
    if not single_line.isprintable():
        single_line = "".join(
            c if c.isprintable() else _escape_character(c, quote="") for c in single_line
        )
    return single_line if len(single_line) <= limit else single_line[: limit - 3] + "..."
