"""Drift: rows changed by hand in the database since the revisions wrote them.

A revision checks every row it changes against its before-image first. By default a
mismatch stops the revision before anything is written and names the table, the key, the
column, the database value and the expected value; ``-x seeds_drift=overwrite`` writes the
revision's values anyway, ``-x seeds_drift=skip`` leaves those rows alone and applies the
rest. Each test has its own copy of the project and its own database, on both backends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alembic_seeds.errors import DriftError
from alembic_seeds.migration.autogenerate import Generated
from tests.scratch import Scratch, dump, make_scratch

FIRST_REVISION = "3f0c2a1b9d47"
#: Two course names whose Hebrew the revision under test fixes.
LINEAR_ALGEBRA_1 = "f0ae6d1b-c1c6-4d2f-ba0d-5eade0cb623b"
LINEAR_ALGEBRA_2 = "68453935-7832-405a-b42a-e41d10099093"
BEFORE = {LINEAR_ALGEBRA_1: "אלגברה ליניארית 1", LINEAR_ALGEBRA_2: "אלגברה ליניארית 2"}
AFTER = {LINEAR_ALGEBRA_1: "אלגברה לינארית 1", LINEAR_ALGEBRA_2: "אלגברה לינארית 2"}
HAND_EDIT = "hand edit"
#: A text no row uses (``translations.jsonl``), free to be deleted by a revision.
FREE_TEXT = "6dc8759c-5eff-4b8e-bc7e-6476ed60ba3f"
LOGGER = "alembic_seeds"
#: The head line of a drift failure.
DRIFT_MESSAGE = r"row\(s\) differ from what the change set expects"


@dataclass
class Fixed:
    """State A, plus a generated (not applied) revision fixing two Hebrew texts."""

    scratch: Scratch
    revision: Generated


@pytest.fixture
def scratch(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Scratch:
    project = make_scratch(tmp_path, db_url, monkeypatch)
    project.upgrade("heads")
    return project


@pytest.fixture
def fixed(scratch: Scratch) -> Fixed:
    for translation_id, text in AFTER.items():
        assert scratch.set_text(translation_id, he=text) >= 1
    generated = scratch.generate("fix two Hebrew course names")
    assert {t: len(c.updates) for t, c in generated.changes.tables.items()} == {"Translation": 2}
    return Fixed(scratch, generated)


@pytest.fixture
def seeds_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger=LOGGER)
    yield caplog


def hebrew(scratch: Scratch, translation_id: str) -> str:
    text: str = scratch.content()["Translation"][(translation_id,)]["he_text"]
    return text


def hand_edit(scratch: Scratch, translation_id: str) -> None:
    changed = scratch.execute(
        'UPDATE "Translation" SET he_text = :text WHERE id = :id', text=HAND_EDIT, id=translation_id
    )
    assert changed == 1


def drift_error(raised: pytest.ExceptionInfo[Exception]) -> DriftError:
    """The ``DriftError`` behind what the command raised (Alembic's ``CommandError`` may
    carry it, with the same message)."""
    error: BaseException | None = raised.value
    while error is not None:
        if isinstance(error, DriftError):
            assert str(error) in str(raised.value)
            return error
        error = error.__cause__ or error.__context__
    pytest.fail(f"no DriftError behind {raised.value!r}")


def report_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


def table_line(caplog: pytest.LogCaptureFixture, table: str) -> str:
    (line,) = [line for line in report_lines(caplog) if line.strip().startswith(f"{table} ")]
    return line


def test_drift_stops_the_upgrade_with_nothing_written_then_overwrite_applies_it(
    fixed: Fixed, seeds_log: pytest.LogCaptureFixture
) -> None:
    scratch = fixed.scratch
    hand_edit(scratch, LINEAR_ALGEBRA_1)
    before = dump(scratch.content())
    versions = scratch.versions_applied()
    assert FIRST_REVISION in versions
    log = scratch.log()

    with pytest.raises(Exception, match=DRIFT_MESSAGE) as raised:
        scratch.upgrade()
    message = str(raised.value)
    for part in (
        "Translation",
        f"id={LINEAR_ALGEBRA_1!r}",
        "he_text",
        f"database has {HAND_EDIT!r}",
        f"expected {BEFORE[LINEAR_ALGEBRA_1]!r}",
        "nothing was written",
        fixed.revision.revision,
    ):
        assert part in message, f"{part!r} not in {message}"
    (mismatch,) = drift_error(raised).mismatches
    assert (mismatch.table, mismatch.key, mismatch.kind) == (
        "Translation",
        {"id": LINEAR_ALGEBRA_1},
        "changed",
    )
    assert mismatch.columns == (("he_text", HAND_EDIT, BEFORE[LINEAR_ALGEBRA_1]),)
    # Nothing of the revision was written: not the other text, not the version, not the log.
    assert hebrew(scratch, LINEAR_ALGEBRA_2) == BEFORE[LINEAR_ALGEBRA_2]
    assert dump(scratch.content()) == before
    assert scratch.versions_applied() == versions
    assert scratch.log() == log

    seeds_log.clear()
    scratch.upgrade(drift="overwrite")
    assert hebrew(scratch, LINEAR_ALGEBRA_1) == AFTER[LINEAR_ALGEBRA_1]
    assert hebrew(scratch, LINEAR_ALGEBRA_2) == AFTER[LINEAR_ALGEBRA_2]
    assert dump(scratch.content()) == dump(scratch.expected())
    assert fixed.revision.revision in scratch.versions_applied()
    entry = scratch.log()[-1]
    assert (entry.revision, entry.direction) == (fixed.revision.revision, "upgrade")
    assert entry.counts["Translation"] == {
        "inserted": 0,
        "updated": 2,
        "deleted": 0,
        "unchanged": 0,
    }
    line = table_line(seeds_log, "Translation")
    assert "updated      2" in line
    assert "overwritten 1  skipped 0" in line
    warnings = [r.getMessage() for r in seeds_log.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "overwrite" in warnings[0]
    assert LINEAR_ALGEBRA_1 in warnings[0]
    assert HAND_EDIT in warnings[0]


def test_skip_leaves_the_drifted_row_and_applies_the_rest(
    fixed: Fixed, seeds_log: pytest.LogCaptureFixture
) -> None:
    scratch = fixed.scratch
    hand_edit(scratch, LINEAR_ALGEBRA_1)
    scratch.upgrade(drift="skip")
    assert hebrew(scratch, LINEAR_ALGEBRA_1) == HAND_EDIT
    assert hebrew(scratch, LINEAR_ALGEBRA_2) == AFTER[LINEAR_ALGEBRA_2]
    assert fixed.revision.revision in scratch.versions_applied()
    entry = scratch.log()[-1]
    assert (entry.revision, entry.direction) == (fixed.revision.revision, "upgrade")
    assert entry.counts["Translation"] == {
        "inserted": 0,
        "updated": 1,
        "deleted": 0,
        "unchanged": 0,
    }
    line = table_line(seeds_log, "Translation")
    assert "updated      1" in line
    assert "overwritten 0  skipped 1" in line
    # Everything else is as seeddata/ says.
    expected = scratch.expected()
    expected["Translation"][(LINEAR_ALGEBRA_1,)]["he_text"] = HAND_EDIT
    assert dump(scratch.content()) == dump(expected)


def test_drift_stops_the_downgrade_with_nothing_written(fixed: Fixed) -> None:
    scratch = fixed.scratch
    state_a = scratch.content()
    scratch.upgrade()
    hand_edit(scratch, LINEAR_ALGEBRA_2)
    before = dump(scratch.content())
    versions = scratch.versions_applied()
    log = scratch.log()

    with pytest.raises(Exception, match=DRIFT_MESSAGE) as raised:
        scratch.downgrade()
    message = str(raised.value)
    (mismatch,) = drift_error(raised).mismatches
    assert mismatch.key == {"id": LINEAR_ALGEBRA_2}
    assert f"id={LINEAR_ALGEBRA_2!r}" in message
    assert f"database has {HAND_EDIT!r}, expected {AFTER[LINEAR_ALGEBRA_2]!r}" in message
    assert "downgrade" in message
    assert hebrew(scratch, LINEAR_ALGEBRA_1) == AFTER[LINEAR_ALGEBRA_1]
    assert dump(scratch.content()) == before
    assert scratch.versions_applied() == versions
    assert fixed.revision.revision in versions
    assert scratch.log() == log

    # Overwriting puts back exactly state A.
    scratch.downgrade(drift="overwrite")
    assert dump(scratch.content()) == dump(state_a)
    assert fixed.revision.revision not in scratch.versions_applied()


def test_an_unknown_drift_policy_is_refused_naming_the_choices(fixed: Fixed) -> None:
    scratch = fixed.scratch
    before = dump(scratch.content())
    versions = scratch.versions_applied()
    with pytest.raises(Exception, match="seeds_drift=bogus") as raised:
        scratch.upgrade(drift="bogus")
    for choice in ("error", "overwrite", "skip"):
        assert choice in str(raised.value)
    assert dump(scratch.content()) == before
    assert scratch.versions_applied() == versions
    assert len(scratch.log()) == 1


#: Three texts a revision adds: one already in the database as is (adopted), one whose id
#: someone used for another text (a conflict), and one new.
ADOPTED = {"id": "9d0c5d1e-7c57-4d4b-a4f6-000000000001", "en": "Probability", "he": "הסתברות"}
CONFLICT = {"id": "9d0c5d1e-7c57-4d4b-a4f6-000000000002", "en": "Topology", "he": "טופולוגיה"}
FRESH = {"id": "9d0c5d1e-7c57-4d4b-a4f6-000000000003", "en": "Game Theory", "he": "תורת המשחקים"}


def prepare_inserts(scratch: Scratch) -> Generated:
    """A revision adding the three texts, and the database as someone left it meanwhile."""
    free = scratch.lines("translations.jsonl")
    scratch.write("translations.jsonl", [*free, ADOPTED, CONFLICT, FRESH])
    generated = scratch.generate("three new texts")
    assert [row["id"] for row in generated.changes.tables["Translation"].inserts] == [
        ADOPTED["id"],
        CONFLICT["id"],
        FRESH["id"],
    ]
    insert = 'INSERT INTO "Translation" (id, en_text, he_text) VALUES (:id, :en, :he)'
    scratch.execute(insert, **ADOPTED)
    scratch.execute(insert, id=CONFLICT["id"], en=CONFLICT["en"], he=HAND_EDIT)
    return generated


def test_insert_meeting_a_different_row_is_drift(scratch: Scratch) -> None:
    generated = prepare_inserts(scratch)
    before = dump(scratch.content())
    with pytest.raises(Exception, match=DRIFT_MESSAGE) as raised:
        scratch.upgrade()
    (mismatch,) = drift_error(raised).mismatches
    assert (mismatch.kind, mismatch.key) == ("conflict", {"id": CONFLICT["id"]})
    assert mismatch.columns == (("he_text", HAND_EDIT, CONFLICT["he"]),)
    assert "insert meets a different row" in str(raised.value)
    assert dump(scratch.content()) == before  # the new text was not inserted either
    assert generated.revision not in scratch.versions_applied()

    scratch.upgrade(drift="overwrite")
    texts = scratch.content()["Translation"]
    for text in (ADOPTED, CONFLICT, FRESH):
        assert texts[(text["id"],)] == {
            "id": text["id"],
            "en_text": text["en"],
            "he_text": text["he"],
        }
    assert dump(scratch.content()) == dump(scratch.expected())


def test_overwritten_insert_conflict_is_counted_once(
    scratch: Scratch, seeds_log: pytest.LogCaptureFixture
) -> None:
    """The report and the log count the new row as inserted, the identical one as unchanged
    and the conflicting one as overwritten (the UPDATE that overwrites touches it alone)."""
    prepare_inserts(scratch)
    scratch.upgrade(drift="overwrite")
    line = table_line(seeds_log, "Translation")
    assert "inserted       1" in line
    assert "unchanged      1" in line
    assert "overwritten 1  skipped 0" in line
    assert scratch.log()[-1].counts["Translation"] == {
        "inserted": 1,
        "updated": 0,
        "deleted": 0,
        "unchanged": 1,
    }


def test_delete_of_a_changed_row_is_drift(scratch: Scratch) -> None:
    """A revision deletes an unused text that someone has changed by hand meanwhile."""
    scratch.write(
        "translations.jsonl",
        [obj for obj in scratch.lines("translations.jsonl") if obj["id"] != FREE_TEXT],
    )
    generated = scratch.generate("drop an unused text")
    hand_edit(scratch, FREE_TEXT)
    before = dump(scratch.content())
    with pytest.raises(Exception, match=DRIFT_MESSAGE) as raised:
        scratch.upgrade()
    (mismatch,) = drift_error(raised).mismatches
    assert (mismatch.kind, mismatch.key) == ("changed", {"id": FREE_TEXT})
    assert mismatch.columns == (("he_text", HAND_EDIT, "סטטיסטיקה"),)
    assert dump(scratch.content()) == before
    assert generated.revision not in scratch.versions_applied()

    scratch.upgrade(drift="skip")
    assert scratch.content()["Translation"][(FREE_TEXT,)]["he_text"] == HAND_EDIT
    assert generated.revision in scratch.versions_applied()


#: Two prerequisite edges a revision deletes with their metadata rows; the second edge's
#: only metadata row (id "") is edited by hand before the upgrade.
KEPT_EDGE = "module:SI System -> module:One Dimensional Kinematics"
GONE_EDGE = "module:Basic Units -> module:Derived Units"
PREREQUISITES = "curriculum/prerequisites.jsonl"
PREREQUISITE_METADATA = "curriculum/prerequisite_metadata.jsonl"


def test_skip_also_leaves_the_rows_a_kept_row_refers_to(
    scratch: Scratch, seeds_log: pytest.LogCaptureFixture
) -> None:
    """The metadata row of an edge was edited by hand, so skip leaves it; the edge it refers
    to must stay too (deleting it would break the foreign key), and says why. The other
    edge and its metadata go."""
    edges = {f"{obj['from']} -> {obj['to']}": obj["id"] for obj in scratch.lines(PREREQUISITES)}
    scratch.write(
        PREREQUISITES,
        [
            obj
            for obj in scratch.lines(PREREQUISITES)
            if obj["id"] not in {edges[KEPT_EDGE], edges[GONE_EDGE]}
        ],
    )
    scratch.write(
        PREREQUISITE_METADATA,
        [
            obj
            for obj in scratch.lines(PREREQUISITE_METADATA)
            if obj["edge"] not in {KEPT_EDGE, GONE_EDGE}
        ],
    )
    generated = scratch.generate("drop two prerequisite edges")
    assert len(generated.changes.tables["BlockRelationship"].deletes) == 2
    changed = scratch.execute(
        'UPDATE "RelationshipMetadata" SET value = :value WHERE id = :id', value=HAND_EDIT, id=""
    )
    assert changed == 1

    scratch.upgrade(drift="skip")
    content = scratch.content()
    assert content["RelationshipMetadata"][("",)]["value"] == HAND_EDIT
    assert (edges[KEPT_EDGE],) in content["BlockRelationship"]
    assert (edges[GONE_EDGE],) not in content["BlockRelationship"]
    assert generated.revision in scratch.versions_applied()
    assert scratch.log()[-1].counts["BlockRelationship"]["deleted"] == 1
    assert "skipped 1" in table_line(seeds_log, "BlockRelationship")
    warnings = [r.getMessage() for r in seeds_log.records if r.levelno == logging.WARNING]
    (dependent,) = [w for w in warnings if edges[KEPT_EDGE] in w]
    assert "delete left undone: RelationshipMetadata id='' refers to it" in dependent
    expected = scratch.expected()
    expected["RelationshipMetadata"][("",)] = content["RelationshipMetadata"][("",)]
    expected["BlockRelationship"][(edges[KEPT_EDGE],)] = content["BlockRelationship"][
        (edges[KEPT_EDGE],)
    ]
    assert dump(content) == dump(expected)
