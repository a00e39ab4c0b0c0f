"""Generated revision files: importable whatever their message and rows hold, and formatted
and lint-clean under the project's own ruff configuration as they come out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic_seeds import commands
from alembic_seeds.migration.autogenerate import INLINE_LIMIT, Generated, autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import WORKSHOP, copy_project
from tests.ruff_tool import RuffResult, require_ruff, ruff, ruff_command

MESSAGES = {
    "windows-path": r"fix C:\Users\x and \N{DASH} \u0041 \x41",
    "trailing-backslash": "ends in a backslash \\",
    "triple-quotes": 'say """hello""" to "everyone"',
    "ends-in-quote": 'the "quoted"',
    "lines": "first line\n\nsecond paragraph\n  indented line  \r\nlast",
    # Look-alike characters (quotes, a dash, a Hebrew geresh) as escapes, for ruff.
    "non-ascii": "תיקון השם של מסור 🙂 \u2019quoted\u2019 \u2013 \u05d2\u05f3",
    "control": "bell\x07 nul\x00 esc\x1b del\x7f vt\x0b ff\x0c tab\tend",
    "invisible": "zero\u200bwidth, ltr\u200e, override\u202e, line\u2028separator, nbsp\xa0",
    "surrogate": "undecodable \udcff byte",
    "very-long": "word " * 2000,
    "template-like": "${revision} <%text> % for x in y:\n% endfor\n## comment",
    "padded": "   padded message   ",
}


def workshop(root: Path) -> SeedsProject:
    copy_project(root, WORKSHOP)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def append(project: SeedsProject, name: str, *rows: dict[str, Any]) -> None:
    with (project.seeddata / name).open("a", encoding="utf-8") as file:
        for row in rows:
            file.write(json.dumps(row, ensure_ascii=False) + "\n")


def check_with_ruff(generated: Generated) -> RuffResult:
    text = generated.path.read_text(encoding="utf-8")
    return ruff(text, f"data_migrations/versions/{generated.path.name}")


def assert_clean(result: RuffResult) -> None:
    assert result.formatted, result.format_output
    assert result.lint_clean, result.lint_output


@pytest.mark.parametrize("message", MESSAGES.values(), ids=MESSAGES.keys())
def test_any_message_gives_an_importable_clean_revision(tmp_path: Path, message: str) -> None:
    project = workshop(tmp_path)
    append(project, "materials.jsonl", {"name": "Brass"})

    generated = autogenerate(project, message)

    assert generated is not None
    # Alembic loads it (every later command does): the module imports, its docstring is
    # the message, and the next autogenerate replays it.
    scripts = ScriptDirectory.from_config(project.config)
    script = scripts.get_revision(generated.revision)
    assert script is not None
    doc = script.module.__doc__
    assert doc is not None
    assert doc.startswith(message.strip().split("\n")[0].strip())
    assert " ".join(message.split()) in " ".join(doc.split())
    assert script.module.data.change_set().checksum() == generated.changes.checksum()
    assert autogenerate(project, "nothing more") is None
    shown = commands.show(project, generated.revision)
    assert shown.lines[0].startswith(f"Data revision {generated.revision}: ")
    assert_clean(check_with_ruff(generated))


def test_an_empty_message_still_gives_a_docstring(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    append(project, "materials.jsonl", {"name": "Brass"})

    generated = autogenerate(project, "  \n ")

    assert generated is not None
    text = generated.path.read_text(encoding="utf-8")
    assert text.startswith('"""(no message)\n')
    assert_clean(check_with_ruff(generated))


def test_long_rows_stay_one_per_line_and_pass_ruff(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    long_name = 'מסור "יפני" \u05d2\u05f3 \u2013 ' * 20 + "\u200b\\ end"
    append(project, "tools.jsonl", {"name": long_name, "weight": 123})
    # And an update of about 160 characters: the saw gets a long name (and its rows follow).
    long_saw = "Saw with a long name, " + "x" * 120
    for name in ("tools.jsonl", "tool_materials.jsonl"):
        path = project.seeddata / name
        path.write_text(path.read_text("utf-8").replace('"Saw"', json.dumps(long_saw)), "utf-8")

    generated = autogenerate(project, "long rows")

    assert generated is not None
    assert generated.sidecar is None
    text = generated.path.read_text(encoding="utf-8")
    # Each changed row on one line under its label, however long, written as people read it
    # (Hebrew as Hebrew); what cannot be seen is escaped.
    rows = [line for line in text.splitlines() if line.startswith("            {")]
    assert len(rows) == 2
    assert max(len(line) for line in rows) > 300
    assert "מסור" in text
    assert "\\u200b" in text
    assert "\u200b" not in text
    assert_clean(check_with_ruff(generated))


def test_a_sidecar_revision_passes_ruff(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    append(project, "materials.jsonl", *({"name": f"Alloy {n}"} for n in range(INLINE_LIMIT + 1)))

    generated = autogenerate(project, "many alloys")

    assert generated is not None
    assert generated.sidecar is not None
    assert_clean(check_with_ruff(generated))


def test_the_frozen_fixture_revisions_pass_ruff() -> None:
    # Written by the generator as it is, and kept: the same check holds for them.
    for path in sorted((WORKSHOP / "data_migrations" / "versions").glob("*.py")):
        assert_clean(ruff(path.read_text("utf-8"), f"data_migrations/versions/{path.name}"))


def test_without_ruff_the_check_fails_under_ci_and_skips_otherwise() -> None:
    assert ruff_command(lambda _name: True) is not None
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        require_ruff({"CI": "true"}, None)
    with pytest.raises(pytest.skip.Exception):
        require_ruff({}, None)
    assert require_ruff({"CI": "true"}, ["ruff"]) == ["ruff"]
