"""Data test: the live schema revisions, against the models and the service's contract.

The original service reads the seeded database unchanged, so its names are a contract: the
schema it was run against, and what its later versions read besides (a degree's faculty,
boolean answers, the question type "boolean"). Every test runs on a fresh SQLite file and
on a fresh PostgreSQL database (the ``db_url`` fixture: under ``CI`` a missing PostgreSQL
fails, it never skips). The expected names below are written out from the contract, not
derived from the models, so that a slip in the models cannot hide itself.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.util import CommandError
from sqlalchemy.engine import Engine

from tests.databases import hand_engine
from tests.live_project import LiveProject, live_root
from tests.small_projects import run_sql

pytestmark = pytest.mark.data

# --- What the contract asks for ---------------------------------------------------------

COLUMNS: dict[str, list[str]] = {
    "Translation": ["id", "en_text", "he_text"],
    "University": ["id", "translationId"],
    "Faculty": ["id", "descriptionId", "translationId", "universityId"],
    "Discipline": ["id", "translationId", "facultyId"],
    # facultyId: the service's later schema.
    "Degree": ["id", "translationId", "universityId", "facultyId"],
    "Course": ["id", "translationId", "universityId", "publishedAt", "blockId"],
    "Block": ["id"],
    "BlockRelationship": ["id", "prerequisiteId", "postrequisiteId"],
    "RelationshipMetadata": ["id", "key", "value", "blockRelationshipId"],
    "Module": ["id", "translationId", "blockId"],
    "Question": ["id", "validationStatus", "translationId", "type"],
    "QuestionPart": ["id", "questionId", "partQuestionId", "order"],
    "Answer": ["id", "questionId"],
    "SelectAnswer": ["id", "isCorrect", "translationId", "answerId"],
    "NumberAnswer": ["id", "value", "answerId"],
    "UnitAnswer": ["id", "value", "unit", "answerId"],
    # The service's later schema.
    "BooleanAnswer": ["id", "value", "answerId"],
    "LearningResource": [
        "id",
        "language",
        "url",
        "type",
        "moduleId",
        "relevance",
        "suggestedBy",
    ],
    "_CourseToDegree": ["A", "B"],
    "_CourseModules": ["A", "B"],
    "_ModuleHierarchy": ["A", "B"],
    "_ModuleToQuestion": ["A", "B"],
}
JOIN_TABLES = ("_CourseToDegree", "_CourseModules", "_ModuleHierarchy", "_ModuleToQuestion")
NULLABLE = {
    ("Course", "publishedAt"),
    ("Discipline", "facultyId"),
    ("LearningResource", "suggestedBy"),
    ("Degree", "facultyId"),
}

# (table, column) -> referenced table; the referenced column is always "id".
FOREIGN_KEYS: dict[tuple[str, str], str] = {
    ("University", "translationId"): "Translation",
    ("Faculty", "descriptionId"): "Translation",
    ("Faculty", "translationId"): "Translation",
    ("Faculty", "universityId"): "University",
    ("Discipline", "translationId"): "Translation",
    ("Discipline", "facultyId"): "Faculty",
    ("Degree", "translationId"): "Translation",
    ("Degree", "universityId"): "University",
    ("Degree", "facultyId"): "Faculty",
    ("Course", "translationId"): "Translation",
    ("Course", "universityId"): "University",
    ("Course", "blockId"): "Block",
    ("BlockRelationship", "prerequisiteId"): "Block",
    ("BlockRelationship", "postrequisiteId"): "Block",
    ("RelationshipMetadata", "blockRelationshipId"): "BlockRelationship",
    ("Module", "translationId"): "Translation",
    ("Module", "blockId"): "Block",
    ("Question", "translationId"): "Translation",
    ("QuestionPart", "questionId"): "Question",
    ("QuestionPart", "partQuestionId"): "Question",
    ("Answer", "questionId"): "Question",
    ("SelectAnswer", "translationId"): "Translation",
    ("SelectAnswer", "answerId"): "Answer",
    ("NumberAnswer", "answerId"): "Answer",
    ("UnitAnswer", "answerId"): "Answer",
    ("BooleanAnswer", "answerId"): "Answer",
    ("LearningResource", "moduleId"): "Module",
    ("_CourseToDegree", "A"): "Course",
    ("_CourseToDegree", "B"): "Degree",
    ("_CourseModules", "A"): "Course",
    ("_CourseModules", "B"): "Module",
    ("_ModuleHierarchy", "A"): "Module",
    ("_ModuleHierarchy", "B"): "Module",
    ("_ModuleToQuestion", "A"): "Module",
    ("_ModuleToQuestion", "B"): "Question",
}

# Constraint name -> (table, columns). All of them deferrable on PostgreSQL.
UNIQUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "Translation_en_text_he_text_key": ("Translation", ("en_text", "he_text")),
    "Faculty_translationId_universityId_key": ("Faculty", ("translationId", "universityId")),
    "Course_translationId_universityId_key": ("Course", ("translationId", "universityId")),
    "BlockRelationship_prerequisiteId_postrequisiteId_key": (
        "BlockRelationship",
        ("prerequisiteId", "postrequisiteId"),
    ),
    "RelationshipMetadata_key_blockRelationshipId_key": (
        "RelationshipMetadata",
        ("key", "blockRelationshipId"),
    ),
    "QuestionPart_questionId_order_key": ("QuestionPart", ("questionId", "order")),
    "NumberAnswer_answerId_key": ("NumberAnswer", ("answerId",)),
    "UnitAnswer_answerId_key": ("UnitAnswer", ("answerId",)),
}
# Unique indexes (not constraints): the later schema's one-to-one boolean answer.
UNIQUE_INDEXES: dict[str, tuple[str, list[str]]] = {
    "BooleanAnswer_answerId_key": ("BooleanAnswer", ["answerId"]),
}

ENUMS: dict[str, list[str]] = {
    "RelationshipMetadataKey": ["REASON", "TYPE", "DESCRIPTION"],
    # "boolean": the service's later schema, declared between "value" and "void".
    "QuestionType": ["selection", "value", "boolean", "void"],
    "QuestionValidationStatus": ["ai_generated", "in_manual_review", "approved", "rejected"],
    "Units": ["meter", "kilogram", "second", "ampere", "kelvin", "mole", "candela"],
    "LearningResourceType": ["video"],
}
ENUM_COLUMNS: dict[tuple[str, str], str] = {
    ("RelationshipMetadata", "key"): "RelationshipMetadataKey",
    ("Question", "validationStatus"): "QuestionValidationStatus",
    ("Question", "type"): "QuestionType",
    ("UnitAnswer", "unit"): "Units",
    ("LearningResource", "type"): "LearningResourceType",
}


def expected_delete_rule(table: str, column: str) -> str:
    if table in JOIN_TABLES:
        return "CASCADE"
    if (table, column) in (("Discipline", "facultyId"), ("Degree", "facultyId")):
        return "SET NULL"
    return "RESTRICT"


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """URL of an empty database, also set as DATABASE_URL for Alembic's env.py."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


@functools.cache
def live_metadata() -> sa.MetaData:
    """The live project's models (``[seeds] metadata`` of its alembic.ini)."""
    return LiveProject(live_root()).seeds().metadata


# For the tests that look at what only PostgreSQL has: run them on that backend alone.
postgresql_only = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


@pytest.fixture
def alembic_cfg(database: str) -> Config:
    """The project's Alembic configuration, seeing the schema revisions only.

    ``alembic check`` insists that the database be at every head, and the data revisions
    (branch "seeds") are a head of their own. Leaving their folder out of the version
    locations makes ``schema@head`` the only head, so that the check compares the schema
    alone, which is what these tests are about.
    """
    root = live_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("version_locations", str(root / "migrations" / "versions"))
    return config


@pytest.fixture
def engine(database: str) -> Iterator[Engine]:
    # The project's engine factory: on SQLite it turns foreign keys on, as Alembic's runs do
    # (and on MySQL, the statements below quote names the standard way).
    engine = hand_engine(database)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(alembic_cfg: Config, engine: Engine) -> Engine:
    command.upgrade(alembic_cfg, "schema@head")
    return engine


# --- Migration against models -------------------------------------------------------------


def test_upgrade_leaves_no_difference_to_the_models(alembic_cfg: Config, migrated: Engine) -> None:
    # Raises AutogenerateDiffsDetected if the models and the migrated database disagree.
    command.check(alembic_cfg)


def test_models_alone_create_the_contract_schema(engine: Engine) -> None:
    # metadata.create_all must work too, deferrable uniques included on SQLite.
    live_metadata().create_all(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, live_metadata()) == []
    assert_structure(engine)


def test_downgrade_removes_everything(alembic_cfg: Config, migrated: Engine) -> None:
    command.downgrade(alembic_cfg, "schema@base")
    # Every table of the schema branch is gone, the Lumina ones and any added by later
    # schema revisions; only Alembic's own version table stays, empty.
    inspector = sa.inspect(migrated)
    assert set(inspector.get_table_names()) == {"alembic_version"}
    with migrated.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 0
        if migrated.dialect.name == "postgresql":
            assert postgres_enums(connection) == {}
    # And the way back up still works after a full round trip.
    command.upgrade(alembic_cfg, "schema@head")
    command.check(alembic_cfg)


# --- Migration against the contract -------------------------------------------------------


def test_tables_columns_and_constraint_names(migrated: Engine) -> None:
    assert_structure(migrated)


def assert_structure(engine: Engine) -> None:
    """Tables, columns and constraint names as the contract lists them (any dialect)."""
    inspector = sa.inspect(engine)
    # MySQL names every primary key PRIMARY (reflected as None), and gives every foreign key
    # an index of the key's name where none exists.
    mysql = engine.dialect.name in ("mysql", "mariadb")
    # Later schema revisions may add tables of their own (the engine's log, for one).
    assert set(COLUMNS) <= set(inspector.get_table_names())
    assert set(live_metadata().tables) == set(COLUMNS)

    for table, names in COLUMNS.items():
        reflected = inspector.get_columns(table)
        assert [info["name"] for info in reflected] == names, table
        for info in reflected:
            nullable = (table, info["name"]) in NULLABLE
            assert info["nullable"] is nullable, (table, info["name"])

        pk = inspector.get_pk_constraint(table)
        if table in JOIN_TABLES:
            assert pk["name"] == (None if mysql else f"{table}_AB_pkey")
            assert pk["constrained_columns"] == ["A", "B"]
        else:
            assert pk["name"] == (None if mysql else f"{table}_pkey")
            assert pk["constrained_columns"] == ["id"]

    found_fks = {
        (table, fk["constrained_columns"][0]): fk
        for table in COLUMNS
        for fk in inspector.get_foreign_keys(table)
    }
    assert all(len(fk["constrained_columns"]) == 1 for fk in found_fks.values())
    assert set(found_fks) == set(FOREIGN_KEYS)
    for (table, column), target in FOREIGN_KEYS.items():
        fk = found_fks[table, column]
        assert fk["name"] == f"{table}_{column}_fkey"
        assert fk["referred_table"] == target
        assert fk["referred_columns"] == ["id"]
        options = {key: value.upper() for key, value in fk["options"].items()}
        # MySQL leaves out its default, RESTRICT.
        ondelete = options.get("ondelete") or ("RESTRICT" if mysql else None)
        assert ondelete == expected_delete_rule(table, column), (table, column)
        assert options.get("onupdate") == "CASCADE", (table, column)

    found_uniques = {
        unique["name"]: (table, tuple(unique["column_names"]))
        for table in COLUMNS
        for unique in inspector.get_unique_constraints(table)
    }
    expected_uniques = dict(UNIQUES)
    if mysql:
        # MySQL has one kind of unique key: a unique index reads back as a constraint too.
        expected_uniques.update(
            {name: (table, tuple(columns)) for name, (table, columns) in UNIQUE_INDEXES.items()}
        )
    assert found_uniques == expected_uniques

    # Indexes that are not just the backing of a constraint: exactly the join tables' "B"
    # and the unique indexes.
    found_indexes = {
        index["name"]: (table, index["column_names"], bool(index["unique"]))
        for table in COLUMNS
        for index in inspector.get_indexes(table)
        if not index.get("duplicates_constraint")
        and not (mysql and (index["name"] in UNIQUES or str(index["name"]).endswith("_fkey")))
    }
    assert found_indexes == {
        **{f"{table}_B_index": (table, ["B"], False) for table in JOIN_TABLES},
        **{name: (table, columns, True) for name, (table, columns) in UNIQUE_INDEXES.items()},
    }


@postgresql_only
def test_postgresql_types_enums_and_defaults(migrated: Engine) -> None:
    with migrated.connect() as connection:
        enums = postgres_enums(connection)
        rows = connection.execute(
            sa.text(
                "SELECT table_name, column_name, data_type, udt_name, datetime_precision,"
                " column_default FROM information_schema.columns"
                " WHERE table_schema = 'public'"
            )
        ).all()
    assert {name: enums.get(name) for name in ENUMS} == ENUMS
    columns = {(row.table_name, row.column_name): row for row in rows if row.table_name in COLUMNS}
    assert set(columns) == {(table, name) for table, names in COLUMNS.items() for name in names}

    def data_type(table: str, column: str) -> str:
        if (table, column) in ENUM_COLUMNS:
            return "USER-DEFINED"
        special = {
            ("Course", "publishedAt"): "timestamp without time zone",
            ("QuestionPart", "order"): "integer",
            ("SelectAnswer", "isCorrect"): "boolean",
            ("BooleanAnswer", "value"): "boolean",
            ("NumberAnswer", "value"): "double precision",
            ("UnitAnswer", "value"): "double precision",
            ("LearningResource", "relevance"): "double precision",
        }
        return special.get((table, column), "text")

    for (table, column), row in columns.items():
        assert row.data_type == data_type(table, column), (table, column)
        if (table, column) in ENUM_COLUMNS:
            assert row.udt_name == ENUM_COLUMNS[table, column]
    assert columns["Course", "publishedAt"].datetime_precision == 3

    defaults = {key: row.column_default for key, row in columns.items() if row.column_default}
    assert defaults == {
        ("Question", "validationStatus"): "'ai_generated'::\"QuestionValidationStatus\"",
        ("LearningResource", "relevance"): "0.0",
    }


@postgresql_only
def test_postgresql_unique_constraints_are_deferrable(migrated: Engine) -> None:
    with migrated.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT c.conname, c.condeferrable, c.condeferred, t.relname FROM pg_constraint c"
                " JOIN pg_class t ON t.oid = c.conrelid"
                " WHERE c.contype = 'u' AND c.connamespace = 'public'::regnamespace"
            )
        ).all()
    found = {
        row.conname: (row.condeferrable, row.condeferred) for row in rows if row.relname in COLUMNS
    }
    assert found == dict.fromkeys(UNIQUES, (True, False))


@postgresql_only
def test_postgresql_row_can_be_rekeyed_with_deferred_constraints(migrated: Engine) -> None:
    insert = sa.text("INSERT INTO \"Translation\" VALUES (:id, 'Physics', 'פיזיקה')")
    with migrated.begin() as connection:
        connection.execute(insert, {"id": "old"})
    # Checked immediately by default...
    with pytest.raises(sa.exc.IntegrityError), migrated.begin() as connection:
        connection.execute(insert, {"id": "new"})
    # ...but a transaction that defers the checks may hold both rows until it ends.
    with migrated.begin() as connection:
        connection.execute(sa.text("SET CONSTRAINTS ALL DEFERRED"))
        connection.execute(insert, {"id": "new"})
        connection.execute(sa.text("DELETE FROM \"Translation\" WHERE id = 'old'"))
    with migrated.connect() as connection:
        ids = connection.execute(sa.text('SELECT id FROM "Translation"')).scalars().all()
    assert ids == ["new"]


def test_enum_columns_reject_unknown_labels(migrated: Engine) -> None:
    # A native enum on PostgreSQL, a CHECK constraint on SQLite: both refuse a stray label,
    # and take every label of the type, the later schema's "boolean" too.
    with migrated.begin() as connection:
        connection.execute(sa.text("INSERT INTO \"Translation\" VALUES ('t', 'Q', 'ש')"))
        for number, label in enumerate(ENUMS["QuestionType"]):
            connection.execute(
                sa.text(
                    'INSERT INTO "Question" (id, "translationId", type) VALUES (:id, \'t\', :label)'
                ),
                {"id": f"q{number}", "label": label},
            )
    bad = sa.text(
        "INSERT INTO \"Question\" (id, \"translationId\", type) VALUES ('q9', 't', 'essay')"
    )
    with pytest.raises(sa.exc.DBAPIError), migrated.begin() as connection:
        connection.execute(bad)
    with migrated.connect() as connection:
        status = connection.execute(
            sa.text('SELECT "validationStatus" FROM "Question" WHERE id = \'q0\'')
        ).scalar()
    assert status == "ai_generated"


def test_a_question_type_label_in_use_stays(alembic_cfg: Config, migrated: Engine) -> None:
    """Going down the schema branch, the label "boolean" cannot go while a question has it
    (on PostgreSQL a check in the revision, on SQLite the CHECK of the rebuilt table), the
    failed step leaves everything as it was, and once no question has it, it goes."""
    with migrated.begin() as connection:
        connection.execute(sa.text("INSERT INTO \"Translation\" VALUES ('t', 'Q', 'ש')"))
        connection.execute(
            sa.text(
                'INSERT INTO "Question" (id, "translationId", type)'
                " VALUES ('q', 't', 'boolean')"
            )
        )
    refused = None
    while refused is None and accepts_label(migrated, "boolean"):
        try:
            command.downgrade(alembic_cfg, "schema@-1")
        except (CommandError, sa.exc.DBAPIError) as error:
            refused = str(error)
    assert refused is not None and "QuestionType" in refused
    assert accepts_label(migrated, "boolean")
    assert not [t for t in sa.inspect(migrated).get_table_names() if t.startswith("_alembic_tmp")]
    with migrated.connect() as connection:
        assert connection.execute(sa.text('SELECT type FROM "Question"')).scalar() == "boolean"
    with migrated.begin() as connection:
        connection.execute(sa.text("DELETE FROM \"Question\" WHERE id = 'q'"))
    command.downgrade(alembic_cfg, "schema@-1")
    assert not accepts_label(migrated, "boolean")
    command.upgrade(alembic_cfg, "schema@head")
    command.check(alembic_cfg)


def accepts_label(engine: Engine, label: str) -> bool:
    """Whether a question of type ``label`` can be written (nothing is kept)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            connection.execute(sa.text("INSERT INTO \"Translation\" VALUES ('probe', 'P', 'פ')"))
            connection.execute(
                sa.text(
                    'INSERT INTO "Question" (id, "translationId", type)'
                    " VALUES ('probe', 'probe', :label)"
                ),
                {"label": label},
            )
        except sa.exc.DBAPIError:
            return False
        finally:
            transaction.rollback()
    return True


def test_schema_with_sql_up_and_down(alembic_cfg: Config, engine: Engine, tmp_path: Path) -> None:
    """``alembic upgrade --sql`` from empty, run with psql or sqlite3, gives the contract's
    schema (a label added to an enum type included); ``downgrade --sql`` back to base leaves
    nothing."""
    output = io.StringIO()
    alembic_cfg.output_buffer = output
    command.upgrade(alembic_cfg, "schema@head", sql=True)
    run_sql(
        str(engine.url.render_as_string(hide_password=False)),
        output.getvalue(),
        tmp_path / "up.sql",
    )
    assert_structure(engine)
    with engine.connect() as connection:
        head = MigrationContext.configure(connection).get_current_heads()
        if engine.dialect.name == "postgresql":
            assert postgres_enums(connection)["QuestionType"] == ENUMS["QuestionType"]
    assert accepts_label(engine, "boolean")
    output.seek(0)
    output.truncate()
    command.downgrade(alembic_cfg, f"{head[0]}:base", sql=True)
    run_sql(
        str(engine.url.render_as_string(hide_password=False)),
        output.getvalue(),
        tmp_path / "down.sql",
    )
    assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            assert postgres_enums(connection) == {}


def postgres_enums(connection: sa.Connection) -> dict[str, list[str]]:
    """Enum types of the public schema with their labels in declaration order."""
    rows = connection.execute(
        sa.text(
            "SELECT t.typname, e.enumlabel FROM pg_type t"
            " JOIN pg_enum e ON e.enumtypid = t.oid"
            " WHERE t.typnamespace = 'public'::regnamespace"
            " ORDER BY t.typname, e.enumsortorder"
        )
    ).all()
    enums: dict[str, list[str]] = {}
    for row in rows:
        enums.setdefault(row.typname, []).append(row.enumlabel)
    return enums
