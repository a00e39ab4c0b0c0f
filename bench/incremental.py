"""Incremental revisions and no-op upgrades: what a day-to-day deploy costs.

* ``incremental``: a database holding a whole dataset (loaded with COPY, then
  ``VACUUM ANALYZE``, as autovacuum would leave it) receives a change set of 1,000 rows
  through ``apply_changes``: Hebrew text edits of ``Translation`` rows, new rows (texts,
  blocks, modules) and deleted join-table links. After each timed run the inverse change
  set puts the database back (not timed).
* ``noop``: ``alembic upgrade heads`` on a database that is already at its heads, against
  ``alembic current`` on the same database, and the proof that the upgrade wrote nothing;
  ``alembic current`` of a bare Alembic project (``bench/startup.py``) beside them, for what
  the project adds to the start-up of every command.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import psycopg

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.changes.changeset import ChangeSet, Dataset, RowUpdate, TableChanges
from bench.contenders import alembic, copy_rows
from bench.db import Server
from bench.results_model import IncrementalResult, NoopResult
from lumina.models import metadata

#: The shape of the change set: 1,000 changed rows in all.
UPDATED_TEXTS = 600
NEW_TRANSLATIONS = 100
NEW_MODULES = 50  # each with a new block: 50 + 50 rows
DELETED_QUESTION_LINKS = 100
DELETED_COURSE_LINKS = 100


def change_set(dataset: Dataset, seed: int = 0) -> ChangeSet:
    """1,000 changed rows of ``dataset``, chosen by ``seed``."""
    rng = random.Random(f"incremental:{seed}")
    translations = list(dataset["Translation"].values())
    updates = [
        RowUpdate(
            key={"id": row["id"]},
            before={"he_text": row["he_text"]},
            after={"he_text": f"{row['he_text']} (עודכן {i})"},
        )
        for i, row in enumerate(rng.sample(translations, UPDATED_TEXTS))
    ]
    new_translations = [
        {
            "id": f"bench-new-text-{seed}-{i}",
            "en_text": f"Bench-new-module #{seed}-{i}",
            "he_text": f"מודול חדש #{seed}-{i}",
        }
        for i in range(NEW_TRANSLATIONS)
    ]
    blocks = [{"id": f"bench-new-module-{seed}-{i}"} for i in range(NEW_MODULES)]
    modules = [
        {"id": block["id"], "translationId": new_translations[i]["id"], "blockId": block["id"]}
        for i, block in enumerate(blocks)
    ]
    question_links = rng.sample(list(dataset["_ModuleToQuestion"].values()), DELETED_QUESTION_LINKS)
    course_links = rng.sample(list(dataset["_CourseModules"].values()), DELETED_COURSE_LINKS)
    changes = ChangeSet(
        {
            "Translation": TableChanges(inserts=new_translations, updates=updates),
            "Block": TableChanges(inserts=blocks),
            "Module": TableChanges(inserts=modules),
            "_ModuleToQuestion": TableChanges(deletes=[dict(r) for r in question_links]),
            "_CourseModules": TableChanges(deletes=[dict(r) for r in course_links]),
        }
    )
    assert changes.size == 1000
    return changes


def load(server: Server, database: str, dataset: Dataset) -> float:
    """Fill ``database`` (schema, no rows) with ``dataset`` by COPY, then VACUUM ANALYZE."""
    started = time.perf_counter()
    with psycopg.connect(server.conninfo(database)) as connection:
        copy_rows(connection, dataset)
        connection.commit()
    with psycopg.connect(server.conninfo(database), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def incremental(
    server: Server, database: str, dataset: Dataset, *, scale: int, runs: int, seed: int = 0
) -> IncrementalResult:
    """Time ``apply_changes`` + commit of the 1,000-row change set, ``runs`` times."""
    server.with_schema(database)
    loaded = load(server, database, dataset)
    changes = change_set(dataset, seed)
    inverse = changes.inverse()
    times = []
    engine = server.engine(database)
    try:
        with engine.connect() as connection:
            for _ in range(runs):
                server.checkpoint()
                connection.exec_driver_sql("SELECT 1")
                connection.commit()
                started = time.perf_counter()
                report = apply_changes(connection, metadata, changes)
                connection.commit()
                times.append(time.perf_counter() - started)
                counts = report.counts()
                written = sum(c["inserted"] + c["updated"] + c["deleted"] for c in counts.values())
                assert written == changes.size, counts
                apply_changes(connection, metadata, inverse)
                connection.commit()
    finally:
        engine.dispose()
        server.drop(database)
    rows = sum(len(r) for r in dataset.values())
    return IncrementalResult(scale, rows, changes.size, times, loaded)


def noop(
    server: Server, database: str, project: Path, bare: Path, *, scale: int, runs: int
) -> NoopResult:
    """``alembic upgrade heads`` on an up-to-date database against ``alembic current``, and
    ``alembic current`` of the bare Alembic project ``bare`` on the same database."""
    url = server.url_for(database)
    before = server.user_table_writes(database)
    upgrade: list[float] = []
    current: list[float] = []
    bare_current: list[float] = []
    # Interleaved, so that a slower moment of the machine weighs on all alike.
    for _ in range(runs):
        upgrade.append(alembic(project, url, "upgrade", "heads").seconds)
        current.append(alembic(project, url, "current").seconds)
        bare_current.append(alembic(bare, url, "current").seconds)
    after = server.user_table_writes(database)
    writes = {k: after[k] - before[k] for k in ("inserted", "updated", "deleted")}
    commits = after["commits"] - before["commits"]
    return NoopResult(scale, upgrade, current, writes, commits, bare_current)
