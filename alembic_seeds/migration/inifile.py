"""Edits of an ``alembic.ini`` that keep everything else as it was: comments, order, spacing.

``configparser`` can read the file but would write it back without its comments, so the
edits work on its lines: find a section, an option (with its continuation lines), and set,
extend or insert.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")


def _option(key: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(key)}\s*[=:]", re.IGNORECASE)


def _commented_option(key: str) -> re.Pattern[str]:
    return re.compile(rf"^[#;]\s*{re.escape(key)}\s*[=:]", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """Lines ``start`` to ``end`` (exclusive)."""

    start: int
    end: int


class IniText:
    """The lines of an ini file, to edit in place."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.final_newline = text.endswith("\n") or not text

    @property
    def text(self) -> str:
        return "\n".join(self.lines) + ("\n" if self.final_newline and self.lines else "")

    def section(self, name: str) -> Span | None:
        """The section's lines, its header included."""
        start = None
        for index, line in enumerate(self.lines):
            match = _SECTION.match(line)
            if match is None:
                continue
            if start is not None:
                return Span(start, index)
            if match["name"].strip() == name:
                start = index
        return Span(start, len(self.lines)) if start is not None else None

    def sections(self) -> list[str]:
        return [m["name"].strip() for line in self.lines if (m := _SECTION.match(line))]

    def option(self, section: str, key: str) -> Span | None:
        """The option's line and its continuation lines (indented, not blank)."""
        span = self.section(section)
        if span is None:
            return None
        pattern = _option(key)
        for index in range(span.start + 1, span.end):
            if pattern.match(self.lines[index]):
                end = index + 1
                while end < span.end and self.lines[end][:1].isspace() and self.lines[end].strip():
                    end += 1
                return Span(index, end)
        return None

    def set_option(self, section: str, key: str, value: str) -> None:
        """Replace the option (or add it, after its commented-out example if there is one)."""
        new = f"{key} = {value}".splitlines()
        span = self.option(section, key)
        if span is not None:
            self.lines[span.start : span.end] = new
            return
        where = self.section(section)
        if where is None:
            raise KeyError(section)
        commented = _commented_option(key)
        at = next(
            (i + 1 for i in range(where.start + 1, where.end) if commented.match(self.lines[i])),
            self._end_of_options(where),
        )
        self.lines[at:at] = new

    def add_section(self, text: str, after: str | None = None) -> None:
        """Insert ``text`` (a section, with its leading blank line) after the last section
        whose name starts with ``after`` (None, or no such section: at the end)."""
        block = text.strip("\n").splitlines()
        names = [n for n in self.sections() if after is not None and n.startswith(after)]
        if names:
            span = self.section(names[-1])
            assert span is not None
            at = self._end_of_options(span)
        else:
            at = len(self.lines)
            while at > 0 and not self.lines[at - 1].strip():
                at -= 1
        self.lines[at:at] = ["", *block]

    def _end_of_options(self, span: Span) -> int:
        """Just after the section's last line that is not blank or a comment."""
        end = span.end
        while end > span.start + 1 and (
            not self.lines[end - 1].strip() or self.lines[end - 1].lstrip()[:1] in "#;"
        ):
            end -= 1
        return end
