"""Benchmark data: the real reference data (x1) and deterministic copies of its shape.

``generate(scale, seed)`` returns a ``Dataset`` in the form of ``tests.reference``'s
``reference_dataset()``: {table: {primary key tuple: row dict with database column names}}.

Scale N is the real data plus N-1 generated copies of its shape. Each copy follows the real
data's relational skeleton row for row, under fresh ids: the same tables, the same number of
rows in each, the same fan-outs (courses per university, choices per answer, modules per
course, ...), the same shared texts (one "True" translation used by 92 choices), the same
prerequisite edges and metadata keys, the same enum values and flags. What changes is
every id (a random UUID per distinct id, so ids shared between tables, such as a module and
its block, stay shared) and every text:

* English text is made of words taken from the real English texts, Hebrew text of words
  (Hebrew letters only) taken from the real Hebrew texts;
* lengths are sampled from the real lengths of texts in the same role (question texts from
  question texts, choice texts from choice texts, ...), English and Hebrew as a real pair;
* texts of at most 3 characters (answer choices such as "5") become digits, the same in both
  languages, as in the real data;
* every English text is unique across the whole dataset (a number is appended on a clash),
  which keeps Translation (en_text, he_text) unique and every label of seeddata/ (university,
  module, question, "course @ university", ...) unambiguous.

Since the skeleton is copied, every foreign key points inside its own copy and every unique
constraint holds (Course (translationId, universityId), BlockRelationship (pre, post),
RelationshipMetadata (key, edge), QuestionPart (question, order), NumberAnswer and UnitAnswer
answerId). Copy ``c`` draws from ``random.Random(f"{seed}:{c}")``, so the result depends on
``seed`` only, and the first N copies of a larger scale are the dataset of scale N.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alembic_seeds.changes.changeset import Dataset, Row
from alembic_seeds.dataset.write import write_seeddata
from lumina.models import metadata
from lumina.seeds import SPEC

ROOT = Path(__file__).resolve().parent.parent
"""The repository root (alembic.ini, migrations/)."""

#: Which table's use of a translation decides the lengths of its texts, most specific first.
_ROLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Question", "translationId"),
    ("Module", "translationId"),
    ("Course", "translationId"),
    ("Degree", "translationId"),
    ("Faculty", "translationId"),
    ("Faculty", "descriptionId"),
    ("University", "translationId"),
    ("Discipline", "translationId"),
    ("SelectAnswer", "translationId"),
)
_UNUSED = "unused"
_SHORT = 3
_HEBREW = re.compile(r"[\u05d0-\u05ea]")
_VARIED = frozenset({"Translation", "RelationshipMetadata", "NumberAnswer", "UnitAnswer"})
_UNITS = ("meter", "kilogram", "second", "ampere", "kelvin", "mole", "candela")


def reference() -> Dataset:
    """The real reference data (cached by ``tests.reference``: do not change it)."""
    from tests.reference import reference_dataset  # noqa: PLC0415 (the repository root only)

    return reference_dataset()


@dataclass(frozen=True)
class _TableTemplate:
    name: str
    rows: list[Row]
    #: Columns holding ids (primary key or foreign key, text): mapped to the copy's ids.
    id_columns: frozenset[str]
    key_columns: tuple[str, ...]


@dataclass(frozen=True)
class _Template:
    tables: list[_TableTemplate]
    #: Every distinct id of the real data, in first-seen order.
    ids: list[str]
    #: Translation id -> role (the table that uses it, or "unused").
    roles: dict[str, str]
    #: Role -> real (English length, Hebrew length) pairs.
    lengths: dict[str, list[tuple[int, int]]]
    reason_lengths: list[int]
    number_values: list[float]
    en_words: list[str]
    he_words: list[str]


def _template(real: Dataset) -> _Template:
    tables = []
    ids: dict[str, None] = {}
    for name, rows in real.items():
        table = metadata.tables[name]
        id_columns = frozenset(
            c.name
            for c in table.columns
            if isinstance(c.type, sa.Text) and (c.primary_key or c.foreign_keys)
        )
        keys = tuple(c.name for c in table.primary_key)
        row_list = list(rows.values())
        for row in row_list:
            for column in id_columns:
                value = row.get(column)  # a column the real data leaves out is null
                if value is not None:
                    ids[value] = None
        tables.append(_TableTemplate(name, row_list, id_columns, keys))
    roles: dict[str, str] = {}
    for table_name, column in _ROLE_COLUMNS:
        role = table_name if column == "translationId" else f"{table_name}.{column}"
        for row in real.get(table_name, {}).values():
            roles.setdefault(row[column], role)
    lengths: dict[str, list[tuple[int, int]]] = {}
    en_words: dict[str, None] = {}
    he_words: dict[str, None] = {}
    for (key,), row in real["Translation"].items():
        role = roles.setdefault(key, _UNUSED)
        lengths.setdefault(role, []).append((len(row["en_text"]), len(row["he_text"])))
        for word in row["en_text"].split():
            if word.isascii() and word.isalpha():
                en_words[word] = None
        for word in row["he_text"].split():
            if all(_HEBREW.match(ch) for ch in word):
                he_words[word] = None
    metadata_rows = real["RelationshipMetadata"].values()
    return _Template(
        tables=tables,
        ids=list(ids),
        roles=roles,
        lengths=lengths,
        reason_lengths=[len(r["value"]) for r in metadata_rows if r["key"] == "REASON"],
        number_values=[float(r["value"]) for r in real["NumberAnswer"].values()],
        en_words=list(en_words),
        he_words=list(he_words),
    )


class _Texts:
    """Texts drawn from real words, every English text unique in the dataset."""

    def __init__(self, template: _Template, real: Dataset) -> None:
        self.template = template
        self.seen: set[str] = {row["en_text"] for row in real["Translation"].values()}
        self.clashes = 0

    def words(self, rng: random.Random, vocabulary: list[str], length: int) -> str:
        parts: list[str] = []
        size = -1
        draw = rng.random
        count = len(vocabulary)
        while size < length:
            word = vocabulary[int(draw() * count)]
            parts.append(word)
            size += len(word) + 1
        if len(parts) > 1 and size - length > len(parts[-1]) // 2:
            parts.pop()  # closer to the sampled length without the last word
        return " ".join(parts)

    def pair(self, rng: random.Random, role: str) -> tuple[str, str]:
        en_length, he_length = rng.choice(self.template.lengths[role])
        if en_length <= _SHORT:
            en = str(rng.randrange(10 ** max(en_length - 1, 0), 10**en_length))
            he = en if he_length <= _SHORT else self.words(rng, self.template.he_words, he_length)
        else:
            en = self.words(rng, self.template.en_words, en_length)
            he = self.words(rng, self.template.he_words, he_length)
        if en in self.seen:
            self.clashes += 1
            en = f"{en} {self.clashes}"
            if he_length <= _SHORT:
                he = en
        self.seen.add(en)
        return en, he

    def sentence(self, rng: random.Random, length: int) -> str:
        return self.words(rng, self.template.en_words, length) + "."


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def _copy(template: _Template, texts: _Texts, rng: random.Random, out: Dataset) -> None:
    """One copy of the real data's skeleton, with fresh ids and texts, added to ``out``."""
    ids = {old: _uuid(rng) for old in template.ids}
    for table in template.tables:
        rows = out[table.name]
        keys = table.key_columns
        mapped = table.id_columns
        varied = table.name in _VARIED
        for row in table.rows:
            new = {c: (ids[v] if c in mapped and v is not None else v) for c, v in row.items()}
            if varied:
                _vary(table.name, row=row, new=new, template=template, texts=texts, rng=rng)
            rows[tuple(new[k] for k in keys)] = new


def _vary(
    table: str,
    *,
    row: Mapping[str, Any],
    new: Row,
    template: _Template,
    texts: _Texts,
    rng: random.Random,
) -> None:
    """The columns of a copied row that get new values rather than the real ones."""
    if table == "Translation":
        new["en_text"], new["he_text"] = texts.pair(rng, template.roles[row["id"]])
    elif table == "RelationshipMetadata" and row["key"] == "REASON":
        new["value"] = texts.sentence(rng, rng.choice(template.reason_lengths))
    elif table == "NumberAnswer":
        new["value"] = rng.choice(template.number_values)
    elif table == "UnitAnswer":
        new["value"] = round(rng.uniform(0.01, 1000.0), 2)
        new["unit"] = rng.choice(_UNITS)


def generate(scale: int, seed: int = 0) -> Dataset:
    """The real data (scale 1) or the real data plus ``scale - 1`` generated copies."""
    if scale < 1:
        raise ValueError(f"scale must be at least 1, not {scale}")
    real = reference()
    out: Dataset = {name: dict(rows) for name, rows in real.items()}
    if scale == 1:
        return out
    template = _template(real)
    texts = _Texts(template, real)
    for copy in range(1, scale):
        _copy(template, texts, random.Random(f"{seed}:{copy}"), out)
    return out


def row_count(dataset: Dataset) -> int:
    return sum(len(rows) for rows in dataset.values())


def check(dataset: Dataset) -> list[str]:
    """What in ``dataset`` the schema would reject: primary keys, foreign keys, unique
    constraints, enum labels, NOT NULL. Empty when the dataset loads as it is."""
    problems: list[str] = []
    for name, rows in dataset.items():
        table = metadata.tables[name]
        keys = [c.name for c in table.primary_key]
        enums = {c.name: set(c.type.enums) for c in table.columns if isinstance(c.type, sa.Enum)}
        required = [c.name for c in table.columns if not c.nullable]
        uniques = [
            [c.name for c in constraint.columns]
            for constraint in table.constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ]
        seen: list[set[tuple[Any, ...]]] = [set() for _ in uniques]
        references = [(fk.parent.name, fk.column.table.name) for fk in table.foreign_keys]
        for key, row in rows.items():
            if tuple(row[k] for k in keys) != key:
                problems.append(f"{name} {key}: key does not match the row")
            for column in required:
                if row.get(column) is None:
                    problems.append(f"{name} {key}: {column} is null")
            for column, labels in enums.items():
                if row.get(column) is not None and row[column] not in labels:
                    problems.append(f"{name} {key}: {column} = {row[column]!r} is no label")
            for column, target in references:
                value = row.get(column)
                if value is not None and (value,) not in dataset.get(target, {}):
                    problems.append(f"{name} {key}: {column} = {value!r} not in {target}")
            for columns, values in zip(uniques, seen, strict=True):
                value = tuple(row.get(c) for c in columns)
                if value in values:
                    problems.append(f"{name} {key}: {columns} = {value!r} is not unique")
                values.add(value)
    return problems


# -- a scratch project for `alembic upgrade heads` --------------------------------------


def make_project(folder: Path, dataset: Dataset) -> Path:
    """A copy of the project's Alembic setup whose seeddata/ holds ``dataset``.

    ``alembic.ini``, ``migrations/`` and the ``lumina`` package are copied,
    ``data_migrations/versions`` starts empty and ``seeddata/`` is written with
    ``write_seeddata``. Returns the folder. The import revision is made by
    ``autogenerate_revision`` (``seeds revision --autogenerate``).
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shutil.copy2(ROOT / "alembic.ini", folder / "alembic.ini")
    # The project's own package (models, spec) is not installed: alembic.ini's
    # prepend_sys_path finds it beside alembic.ini, as in the repository.
    for name in ("migrations", "lumina"):
        shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "data_migrations" / "versions").mkdir(parents=True)
    (folder / "seeddata").mkdir()
    write_seeddata(folder / "seeddata", SPEC, dataset)
    return folder


def tool(name: str) -> str:
    """A console script of this virtual environment (alembic, seeds)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def autogenerate_revision(folder: Path) -> float:
    """Run ``seeds revision --autogenerate`` in ``folder``; returns its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [tool("seeds"), "revision", "--autogenerate", "-m", "import the reference data"],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    )
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.generate --scale 10``: generate, check, print counts and time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", type=Path, help="also write a scratch project here")
    parser.add_argument(
        "--check", action="store_true", help="check keys, references, unique constraints, enums"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    dataset = generate(args.scale, args.seed)
    seconds = time.perf_counter() - started
    for name, rows in dataset.items():
        print(f"{name:22} {len(rows):>9}")
    print(f"{'total':22} {row_count(dataset):>9}  generated in {seconds:.2f} s")
    if args.check:
        started = time.perf_counter()
        problems = check(dataset)
        for problem in problems[:20]:
            print(problem)
        seconds = time.perf_counter() - started
        print(f"checked in {seconds:.1f} s: {len(problems)} problem(s)")
        if problems:
            return 1
    if args.project is not None:
        started = time.perf_counter()
        make_project(args.project, dataset)
        print(f"seeddata written in {time.perf_counter() - started:.2f} s")
        print(f"autogenerate: {autogenerate_revision(args.project):.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
