"""The catalogue fixture project (``tests/projects/evolving``, package ``evolving_fixture``),
whose schema changes under its seed data, and its history as a person writes it.

``HISTORY`` is every revision in the order it was written: a schema revision (the file under
``migrations/versions``, written by hand, with the models of its stage) or a data revision
(``seeddata/`` as it then is, captured by ``seeds revision --autogenerate``). ``build``
writes that history into a new copy of the project, step by step; the frozen data revisions
under ``data_migrations/versions`` are what it gives.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.config import Config

from alembic_seeds.migration.autogenerate import Generated, autogenerate
from alembic_seeds.migration.config import SeedsProject
from tests.fixture_projects import FIXTURE_PROJECTS

EVOLVING = FIXTURE_PROJECTS / "evolving"

JsonObject = dict[str, Any]
Seeddata = Mapping[str, list[JsonObject]]


@dataclass(frozen=True)
class Step:
    """One revision of the history: ``kind`` "schema" or "data"; ``stage`` the models it
    is written with (see ``evolving_fixture.models.STAGES``)."""

    kind: str
    revision: str
    stage: str
    message: str = ""
    seeddata: Seeddata = field(default_factory=dict)


def _book(key: str, isbn: str, title: str, genre: str, book_format: str, **rest: Any) -> JsonObject:
    return {"id": key, "isbn": isbn, "title": title, "genre": genre, "format": book_format, **rest}


GENRES = [
    {"id": "G1", "code": "fiction", "name": "Fiction"},
    {"id": "G2", "code": "science", "name": "Science"},
]

FIRST_BOOKS = [
    _book("B1", "isbn-1", "The Quiet Sea", "fiction", "hardcover", shelf_code="F-12"),
    _book("B2", "isbn-2", "Small Worlds", "science", "paperback", shelf_code="S-03"),
    _book("B3", "isbn-3", "Night Trains", "fiction", "paperback", shelf_code="F-40"),
]
AUTHORS = {"B1": "Ann Lee", "B2": "Raj Patel", "B3": "Ann Lee", "B4": "Mo Chen", "B5": "Raj Patel"}
PAGES = {"B1": 320, "B2": 210, "B3": 180, "B4": 95, "B5": 150}


def _books(
    books: list[JsonObject], *, author: str = "author_name", **extra: Any
) -> list[JsonObject]:
    """``books`` with their author under the column's name of the time, and ``extra``
    fields: ``pages=True`` adds the page counts, ``shelf=False`` leaves out the shelf code."""
    written = []
    for book in books:
        row = {**book, author: AUTHORS[book["id"]]}
        if extra.get("pages"):
            row["pages"] = PAGES[book["id"]]
        if extra.get("shelf") is False:
            row.pop("shelf_code", None)
        if book["id"] in extra.get("titles", {}):
            row["title"] = extra["titles"][book["id"]]
        written.append(row)
    return written


B4 = _book("B4", "isbn-4", "Paper Moons", "science", "hardcover", shelf_code="S-07")
B5 = _book("B5", "isbn-5", "Signals", "science", "ebook")
REVISED = {"B2": "Small Worlds, Revised"}
HART = {"B3": "Ann Lee-Hart"}
AWARDS: list[JsonObject] = [
    {"id": "A1", "book": "isbn-1", "name": "Harbor Prize", "year": 2021},
    {"id": "A2", "book": "isbn-4", "name": "Young Readers"},
]
LAST_AWARDS: list[JsonObject] = [
    AWARDS[0],
    {"id": "A3", "book": "isbn-5", "name": "Digital Award", "year": 2024},
]


def _renamed(books: list[JsonObject], **extra: Any) -> list[JsonObject]:
    rows = _books(books, author="author", pages=True, shelf=False, **extra)
    for row in rows:
        if row["id"] in HART:
            row["author"] = HART[row["id"]]
    return rows


HISTORY: tuple[Step, ...] = (
    Step("schema", "5c0000000001", "created"),
    Step(
        "data",
        "da0000000001",
        "created",
        "the first books",
        {"genre.jsonl": GENRES, "book.jsonl": _books(FIRST_BOOKS)},
    ),
    Step("schema", "5c0000000002", "pages"),
    Step(
        "data",
        "da0000000002",
        "pages",
        "page counts",
        {"genre.jsonl": GENRES, "book.jsonl": _books(FIRST_BOOKS, pages=True)},
    ),
    Step("schema", "5c0000000003", "pages_required"),
    Step(
        "data",
        "da0000000003",
        "pages_required",
        "a fourth book, a revised title",
        {
            "genre.jsonl": GENRES,
            "book.jsonl": _books([*FIRST_BOOKS, B4], pages=True, titles=REVISED),
        },
    ),
    Step(
        "data",
        "da0000000004",
        "pages_required",
        "no more shelf codes",
        {
            "genre.jsonl": GENRES,
            "book.jsonl": _books([*FIRST_BOOKS, B4], pages=True, shelf=False, titles=REVISED),
        },
    ),
    Step("schema", "5c0000000004", "shelf_dropped"),
    Step("schema", "5c0000000005", "author_renamed"),
    Step(
        "data",
        "da0000000005",
        "author_renamed",
        "an author's full name",
        {"genre.jsonl": GENRES, "book.jsonl": _renamed([*FIRST_BOOKS, B4], titles=REVISED)},
    ),
    Step("schema", "5c0000000006", "awards"),
    Step(
        "data",
        "da0000000006",
        "awards",
        "the first awards",
        {
            "genre.jsonl": GENRES,
            "book.jsonl": _renamed([*FIRST_BOOKS, B4], titles=REVISED),
            "award.jsonl": AWARDS,
        },
    ),
    Step("schema", "5c0000000007", "ebook"),
    Step(
        "data",
        "da0000000007",
        "ebook",
        "an ebook and its award",
        {
            "genre.jsonl": GENRES,
            "book.jsonl": _renamed([*FIRST_BOOKS, B4, B5], titles=REVISED),
            "award.jsonl": LAST_AWARDS,
        },
    ),
)

#: Where ``alembic upgrade heads`` ends: the seed data of the last data revision.
LAST_SEEDDATA = HISTORY[-1].seeddata


def schema_file(revision: str) -> Path:
    (path,) = (EVOLVING / "migrations" / "versions").glob(f"{revision}_*.py")
    return path


def start(root: Path) -> Path:
    """A copy of the project in ``root`` without revisions or seed data: where a person
    starts writing the history."""
    root.mkdir(parents=True)
    shutil.copy(EVOLVING / "alembic.ini", root / "alembic.ini")
    (root / "migrations" / "versions").mkdir(parents=True)
    for name in ("env.py", "script.py.mako"):
        shutil.copy(EVOLVING / "migrations" / name, root / "migrations" / name)
    (root / "data_migrations" / "versions").mkdir(parents=True)
    (root / "seeddata").mkdir()
    return root


def set_stage(root: Path, stage: str) -> None:
    """Point ``[seeds] metadata`` (and so env.py) at the models of ``stage``."""
    ini = root / "alembic.ini"
    text = re.sub(
        r"^metadata = .*$",
        f"metadata = evolving_fixture.models:stages.{stage}",
        ini.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    ini.write_text(text, encoding="utf-8")


def write_seeddata(root: Path, seeddata: Seeddata) -> None:
    folder = root / "seeddata"
    for path in folder.glob("*.jsonl"):
        path.unlink()
    for name, objects in seeddata.items():
        lines = "".join(json.dumps(obj, ensure_ascii=False) + "\n" for obj in objects)
        (folder / name).write_text(lines, encoding="utf-8")


def take_step(root: Path, step: Step) -> Generated | None:
    """Write one revision of the history as a person does; a data revision's result."""
    set_stage(root, step.stage)
    if step.kind == "schema":
        shutil.copy(schema_file(step.revision), root / "migrations" / "versions")
        return None
    write_seeddata(root, step.seeddata)
    project = SeedsProject.from_config(Config(str(root / "alembic.ini")))
    return autogenerate(project, step.message, revision=step.revision)
