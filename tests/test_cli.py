"""The ``seeds`` review and check commands: show, diff, check, history.

Each test works on its own copy of the project (``alembic.ini``, ``migrations/``,
``data_migrations/``, ``seeddata/``) in ``tmp_path``, run with ``seeds -c COPY/alembic.ini``
from ``tmp_path`` as the working folder. Database tests run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from click.testing import CliRunner, Result
from frozen_lumina.models import metadata
from frozen_lumina.seeds import SPEC

from alembic_seeds.changes.changeset import ChangeSet, RowUpdate, TableChanges
from alembic_seeds.cli import main
from alembic_seeds.dataset.labels import RowNamer
from alembic_seeds.migration.database import shown_url
from alembic_seeds.migration.replay import resolve_data_revision, states_around
from alembic_seeds.review.render import MARKDOWN_MAX_CHARS, md_code, md_text, render
from tests.databases import hand_engine
from tests.fixture_projects import LUMINA_FIRST_REVISION, copy_project

FIRST = LUMINA_FIRST_REVISION
#: The Hebrew name of the Open University: its Translation row, and the University using it.
TEXT_ID = "fa6eb564-ad2c-480c-9086-82a4fd474b0a"
ENGLISH = "The Open University Of Israel"
HEBREW = "האוניברסיטה הפתוחה"
EDITED = "האוניברסיטה הפתוחה לישראל"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project; the working folder is ``tmp_path`` (not the project)."""
    root = tmp_path / "project"
    copy_project(root)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return root


@pytest.fixture
def database(project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``db_url`` (SQLite, then PostgreSQL) as DATABASE_URL, upgraded to heads by Alembic."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(alembic_config(project), "heads")
    return db_url


def alembic_config(project: Path) -> Config:
    config = Config(str(project / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


def seeds(project: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["-c", str(project / "alembic.ini"), *args])
    # Never a traceback: any exception other than the exit is a failure of the test.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def edit_hebrew(project: Path, old: str = HEBREW, new: str = EDITED) -> None:
    """Change the Hebrew name of the Open University in seeddata/, as a person would."""
    path = project / "seeddata" / "institutions" / "universities.jsonl"
    text = path.read_text(encoding="utf-8")
    assert text.count(f'"he": "{old}"') == 1
    path.write_text(text.replace(f'"he": "{old}"', f'"he": "{new}"'), encoding="utf-8")


def execute(url: str, statement: str, **parameters: str) -> None:
    engine = hand_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement), parameters)
    finally:
        engine.dispose()


def lines_with(output: str, *parts: str) -> list[str]:
    return [line for line in output.splitlines() if all(part in line for part in parts)]


def counts_line(output: str, table: str) -> Sequence[str]:
    (line,) = [line for line in output.splitlines() if line.split()[:1] == [table]]
    return line.split()


# --- show -------------------------------------------------------------------------------


def test_show_first_revision(project: Path) -> None:
    result = seeds(project, "show", FIRST)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"Data revision {FIRST}: import the Lumina reference data\n")
    assert "down revision  none (first data revision of branch seeds)" in out
    assert counts_line(out, "Translation") == ["Translation", "650", "0", "0"]
    assert counts_line(out, "total") == ["total", "2741", "0", "0"]
    assert "\nTranslation: 650 inserted\n" in out
    # Each row under its label and id; texts whole, in both languages.
    assert f'  + {ENGLISH} | {HEBREW}  [id "{TEXT_ID}"]' in out
    assert f'      he_text: "{HEBREW}"' in out
    # A reference is followed by the label of the row it names.
    assert f'translationId: "{TEXT_ID}" ({ENGLISH} | {HEBREW})' in out
    # Every inserted row is listed.
    assert len([line for line in out.splitlines() if line.startswith("  + ")]) == 2741
    assert result.stderr == ""


def test_show_accepts_prefixes_and_symbolic_names(project: Path) -> None:
    full = seeds(project, "show", FIRST).stdout
    assert seeds(project, "show", FIRST[:4]).stdout == full
    assert seeds(project, "show", "seeds@head").stdout.splitlines()[0] == full.splitlines()[0]


def test_show_markdown(project: Path) -> None:
    result = seeds(project, "show", FIRST, "--format", "markdown")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"### Data revision {FIRST}: import the Lumina reference data\n")
    assert "| table | inserted | updated | deleted |" in out
    assert "| `Translation` | 650 | 0 | 0 |" in out
    assert "| **total** | **2741** | **0** | **0** |" in out
    assert "#### `Translation`: 650 inserted" in out
    assert "<details><summary>650 rows</summary>" in out
    assert "more (the text format lists every row)" in out
    # Fits in a pull request comment.
    assert len(out) <= MARKDOWN_MAX_CHARS
    every = seeds(project, "show", FIRST, "--format", "markdown", "--max-rows", "0").stdout
    assert "more (the text format" not in every
    assert every.count("\n- inserted **") == 2741


def test_show_unknown_revision_is_an_error(project: Path) -> None:
    for name in ("0000000", "schema@head", "seeds@base"):
        result = seeds(project, "show", name)
        assert result.exit_code == 2, name
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith("error: revision ")


# --- diff and check without a database --------------------------------------------------


def test_diff_of_clean_seeddata(project: Path) -> None:
    result = seeds(project, "diff")
    assert result.exit_code == 0
    assert result.stdout.rstrip().endswith("No changes.")
    assert f"last revision  {FIRST} (import the Lumina reference data)" in result.stdout
    markdown = seeds(project, "diff", "--format", "markdown")
    assert markdown.exit_code == 0
    assert markdown.stdout.rstrip().endswith("No changes.")


def test_diff_shows_an_edited_text_by_its_english_and_hebrew(project: Path) -> None:
    edit_hebrew(project)
    result = seeds(project, "diff")
    assert result.exit_code == 0  # informational
    out = result.stdout
    assert counts_line(out, "Translation") == ["Translation", "0", "1", "0"]
    assert f'  ~ {ENGLISH} | {EDITED}  [id "{TEXT_ID}"]' in out
    assert f'      he_text: "{HEBREW}" -> "{EDITED}"' in out
    markdown = seeds(project, "diff", "--format", "markdown").stdout
    assert (
        f'- updated **{ENGLISH} \\| {EDITED}** (`id "{TEXT_ID}"`): '
        f'`he_text` `"{HEBREW}"` → `"{EDITED}"`'
    ) in markdown


def test_check_fails_until_a_revision_captures_the_edit(project: Path) -> None:
    assert seeds(project, "check").exit_code == 0
    edit_hebrew(project)
    result = seeds(project, "check")
    assert result.exit_code == 1
    out = result.stdout
    assert "seeddata/ holds 1 change (1 updated) that no data revision of branch seeds" in out
    assert "\nTranslation: 1 updated\n" in out
    assert f'  ~ {ENGLISH} | {EDITED}  [id "{TEXT_ID}"]' in out
    assert "seeds revision --autogenerate" in out
    assert "check failed" in out

    generated = seeds(project, "revision", "--autogenerate", "-m", "fix")
    assert generated.exit_code == 0, generated.stderr
    result = seeds(project, "check")
    assert result.exit_code == 0, result.stdout
    assert "check passed" in result.stdout
    # The new revision shows the edit, labelled from the states around it.
    shown = seeds(project, "show", "seeds@head").stdout
    assert shown.splitlines()[0].endswith(": fix")
    assert f"down revision  {FIRST}" in shown
    assert f'      he_text: "{HEBREW}" -> "{EDITED}"' in shown


def test_bad_seed_data_is_an_error(project: Path) -> None:
    path = project / "seeddata" / "institutions" / "universities.jsonl"
    path.write_text(path.read_text(encoding="utf-8") + "{not json\n", encoding="utf-8")
    for args in (("check",), ("diff",)):
        result = seeds(project, *args)
        assert result.exit_code == 2
        assert "universities.jsonl:5: malformed" in result.stderr


def test_missing_config_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["-c", str(tmp_path / "nothing.ini"), "check"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no such file" in result.stderr


# --- against a database -----------------------------------------------------------------


def test_check_db_of_a_freshly_upgraded_database(project: Path, database: str) -> None:
    result = seeds(project, "check", "--db")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"data revisions applied: {FIRST}" in out
    assert "no drift" in out
    assert "check passed" in out
    diff = seeds(project, "diff", "--db")
    assert diff.exit_code == 0
    assert diff.stdout.rstrip().endswith("No changes.")


def test_check_db_reports_a_row_changed_by_hand(project: Path, database: str) -> None:
    execute(database, "UPDATE \"Translation\" SET he_text = 'x' WHERE id = :id", id=TEXT_ID)
    result = seeds(project, "check", "--db")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "drift: 1 row of the database differs from what the applied revisions produce" in out
    (row,) = lines_with(out, "Translation", TEXT_ID)
    assert f"{ENGLISH} | {HEBREW}" in row
    assert f"revision {FIRST}" in row
    assert f'      he_text: database "x", expected "{HEBREW}"' in out
    # Exactly that row: one entry, one value.
    assert len([line for line in out.splitlines() if line.startswith("      ")]) == 1
    assert "check failed: the database drifted from its applied revisions" in out
    # Nothing was written.
    engine = hand_engine(database)
    with engine.connect() as connection:
        value = connection.execute(
            sa.text('SELECT he_text FROM "Translation" WHERE id = :id'), {"id": TEXT_ID}
        ).scalar()
    engine.dispose()
    assert value == "x"
    # diff --db: what seeddata/ would change in that database.
    diff = seeds(project, "diff", "--db").stdout
    assert f'      he_text: "x" -> "{HEBREW}"' in diff


def test_check_db_reports_missing_and_extra_rows(project: Path, database: str) -> None:
    execute(
        database,
        'DELETE FROM "_CourseToDegree" WHERE "A" = :a',
        a="8D4E4C31-247D-435C-9FC9-C31C461BABDE",
    )
    execute(
        database,
        'INSERT INTO "Translation" (id, en_text, he_text) VALUES (:id, :en, :he)',
        id="made-by-hand",
        en="Hello",
        he="שלום",
    )
    result = seeds(project, "check", "--db")
    assert result.exit_code == 1
    out = result.stdout
    (missing,) = lines_with(out, "_CourseToDegree  missing from the database:")
    assert (
        "Advanced Java Programming @ The Open University Of Israel <-> Computer Science" in missing
    )
    assert f"revision {FIRST}" in missing
    (extra,) = lines_with(out, "Translation  extra in the database:")
    assert 'Hello | שלום  [id "made-by-hand"]' in extra


def test_check_db_finds_a_revision_edited_after_it_was_applied(
    project: Path, database: str
) -> None:
    (sidecar,) = (project / "data_migrations" / "versions").glob(f"*{FIRST}*.changes.jsonl")
    lines = sidecar.read_text(encoding="utf-8").splitlines(keepends=True)
    (number,) = [i for i, line in enumerate(lines) if TEXT_ID in line and '"Translation"' in line]
    edited = lines[number].replace(HEBREW, HEBREW[:-1] + "ת")
    assert edited != lines[number]
    json.loads(edited)  # still valid
    lines[number] = edited
    sidecar.write_text("".join(lines), encoding="utf-8")

    result = seeds(project, "check", "--db")
    assert result.exit_code == 1, result.output
    out = result.stdout
    (line,) = lines_with(out, f"revision {FIRST} was edited after it was applied")
    assert "v1:" in line
    assert "applied revisions were edited" in out


def test_history(project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(alembic_config(project), "schema@head")
    result = seeds(project, "history")
    assert result.exit_code == 0
    assert "no entries" in result.stdout
    command.upgrade(alembic_config(project), "heads")
    result = seeds(project, "history")
    assert result.exit_code == 0
    header, *entries = result.stdout.splitlines()
    assert header.split()[:4] == ["applied", "at", "(UTC)", "revision"]
    (entry,) = entries
    date, time, revision, direction, inserted, updated, deleted, duration = entry.split()
    assert (revision, direction, inserted, updated, deleted) == (FIRST, "upgrade", "2741", "0", "0")
    assert len(date) == 10 and len(time) == 8
    # Milliseconds the revision took: some, and not the seconds since the epoch.
    assert 0 < float(duration) < 600_000
    command.downgrade(alembic_config(project), "seeds@-1")
    directions = [line.split()[3] for line in seeds(project, "history").stdout.splitlines()[1:]]
    assert directions == ["upgrade", "downgrade"]


def test_history_without_log_table(
    project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(alembic_config(project), "e89b5885e764")  # the schema, no log table yet
    result = seeds(project, "history")
    assert result.exit_code == 0
    assert "has no alembic_seeds_log table" in result.stdout


# --- database errors --------------------------------------------------------------------


def test_unreachable_database_is_one_line_without_password(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql+psycopg://someone:s3cret@127.0.0.1:1/nowhere"
    monkeypatch.setenv("DATABASE_URL", url)
    for args in (("check", "--db"), ("diff", "--db"), ("history",)):
        result = seeds(project, *args)
        assert result.exit_code == 2, args
        assert len(result.stderr.splitlines()) == 1
        assert "s3cret" not in result.output
        assert "someone:***@127.0.0.1:1/nowhere" in result.stderr


def name_database_in_ini(project: Path, url: str) -> None:
    """Write ``sqlalchemy.url = url`` into the copy's [alembic] section."""
    ini = project / "alembic.ini"
    text = ini.read_text(encoding="utf-8")
    ini.write_text(text.replace("[alembic]\n", f"[alembic]\nsqlalchemy.url = {url}\n", 1), "utf-8")


def test_missing_sqlite_file_is_reported_not_created(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without DATABASE_URL: sqlalchemy.url of alembic.ini, a SQLite file that is not there.
    name_database_in_ini(project, "sqlite:///%(here)s/missing.db")
    result = seeds(project, "history")
    assert result.exit_code == 2
    assert "missing.db: no such file" in result.stderr
    assert not (project / "missing.db").exists()


def test_database_from_sqlalchemy_url_unless_database_url_is_set(
    project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    command.upgrade(alembic_config(project), "heads")
    monkeypatch.delenv("DATABASE_URL")
    name_database_in_ini(project, db_url)
    assert seeds(project, "history").exit_code == 0
    assert FIRST in seeds(project, "history").stdout
    # DATABASE_URL wins over the file.
    monkeypatch.setenv("DATABASE_URL", "sqlite:///%s" % (project / "other.db"))
    result = seeds(project, "history")
    assert result.exit_code == 2
    assert "other.db: no such file" in result.stderr


def test_no_database_configured_is_one_line(project: Path) -> None:
    # The frozen project names no database in its alembic.ini: DATABASE_URL must.
    for args in (("history",), ("check", "--db"), ("diff", "--db")):
        result = seeds(project, *args)
        assert result.exit_code == 2, args
        assert result.stderr.splitlines() == [
            f"error: no database: set DATABASE_URL, or sqlalchemy.url in [alembic] of "
            f"{project / 'alembic.ini'}"
        ]
    assert not list(project.glob("*.db"))


def test_database_without_schema_is_an_error(
    project: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    engine = hand_engine(db_url)
    with engine.connect():
        pass  # creates the SQLite file; PostgreSQL's database exists already
    engine.dispose()
    result = seeds(project, "check", "--db")
    assert result.exit_code == 2
    assert "lacks the seeded tables" in result.stderr


# --- the functions under the commands ---------------------------------------------------


def test_shown_url_hides_the_password() -> None:
    assert shown_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"


def test_markdown_escaping() -> None:
    assert md_code("a`b") == "``a`b``"
    assert md_code("`") == "`` ` ``"
    assert md_text("a | *b* <c>\nd") == "a \\| \\*b\\* \\<c\\> d"


def test_render_functions_directly(project: Path) -> None:
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    from alembic_seeds.dataset.load import primary_keys  # noqa: PLC0415

    scripts = ScriptDirectory.from_config(alembic_config(project))
    script, _data = resolve_data_revision(scripts, FIRST[:6])
    keys = primary_keys(metadata, SPEC.tables())
    states = states_around(scripts, keys, script.revision)
    assert states.before == {}
    assert len(states.after["Translation"]) == 650
    namer = RowNamer(SPEC, metadata, keys, states.after, states.before)
    update = RowUpdate({"id": TEXT_ID}, {"he_text": HEBREW}, {"he_text": "x\ny"})
    changes = ChangeSet({"Translation": TableChanges(updates=[update])})
    text = render(changes, namer, "text")
    # The label comes from the state (English | Hebrew); a line break stays on one line.
    assert f'  ~ {ENGLISH} | {HEBREW}  [id "{TEXT_ID}"]\n' in text
    assert f'      he_text: "{HEBREW}" -> "x\\ny"\n' in text
    assert render(ChangeSet(), namer, "text") == "No changes.\n"


# --- the command line itself ------------------------------------------------------------


def test_config_option_goes_before_or_after_the_command(project: Path) -> None:
    ini = str(project / "alembic.ini")
    before = CliRunner().invoke(main, ["-c", ini, "validate"])
    after = CliRunner().invoke(main, ["validate", "-c", ini])
    assert before.exit_code == after.exit_code == 0, before.output + after.output
    assert before.output == after.output
    assert after.output.startswith("seeddata is valid:")


def test_revision_offers_only_what_it_does(project: Path) -> None:
    help_text = CliRunner().invoke(main, ["revision", "--help"]).output
    assert "--autogenerate" in help_text
    assert "--no-autogenerate" not in help_text
    result = seeds(project, "revision", "--no-autogenerate", "-m", "x")
    assert result.exit_code == 2
    assert "No such option '--no-autogenerate'" in result.output
