"""The MariaDB (MySQL) column of the benchmark: the engine against the fastest bulk load into
the same tables (the floor) and the per-row approach, on the same data and server.

    python -m bench.mysql [--scales 1,10,100] [--url mysql+pymysql://root@127.0.0.1:3306/test]

Each contender loads the whole data set (``bench.generate``) into empty Lumina tables of a
database of its own, made from the models (``seeds_bench_<pid>_*``, dropped afterwards):

- ``engine``: ``apply_changes`` of the data as inserts (what the first data revision does),
  committed;
- ``floor``: ``LOAD DATA LOCAL INFILE`` per table, parents first, one transaction (it needs
  ``local_infile`` on the server; the driver's side is switched on here);
- ``per_row``: for each row, parents first, a SELECT by key and an INSERT, one transaction
  (the original seed's way).

A contender stops above a scale where one run is predicted (linearly) to take longer than
``--budget`` seconds. Prints one markdown table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import sqlalchemy as sa
from sqlalchemy import pool
from sqlalchemy.engine import make_url

from alembic_seeds.apply.values import to_database
from alembic_seeds.changes.changeset import Dataset
from bench.contenders import _order, time_engine
from bench.generate import generate, row_count
from lumina.models import metadata

DEFAULT_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A new database ``name`` with the Lumina tables, dropped afterwards; its URL."""
    server = make_url(url)
    admin = sa.create_engine(url, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        database_url = server.set(database=name).render_as_string(hide_password=False)
        engine = sa.create_engine(database_url, poolclass=pool.NullPool)
        metadata.create_all(engine)
        engine.dispose()
        try:
            yield database_url
        finally:
            with admin.connect() as connection:
                connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        admin.dispose()


def _driver(url: str) -> Any:
    parsed = make_url(url)
    return pymysql.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=parsed.database,
        charset="utf8mb4",
        local_infile=True,
    )


def _values(table: sa.Table, row: dict[str, Any]) -> list[Any]:
    return [to_database(column, row.get(column.name)) for column in table.columns]


def engine(url: str, dataset: Dataset) -> float:
    return time_engine(sa.create_engine(url, poolclass=pool.NullPool), dataset)


def floor(url: str, dataset: Dataset) -> float:
    connection = _driver(url)
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor, tempfile.TemporaryDirectory() as folder:
            for name in _order(dataset):
                table = metadata.tables[name]
                path = os.path.join(folder, f"{name}.tsv")
                with open(path, "w", encoding="utf-8", newline="\n") as out:
                    for row in dataset[name].values():
                        out.write("\t".join(_field(v) for v in _values(table, row)) + "\n")
                columns = ", ".join(f"`{column.name}`" for column in table.columns)
                cursor.execute(
                    f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE `{name}` CHARACTER SET utf8mb4"
                    f" ({columns})"
                )
        connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


def _field(value: Any) -> str:
    """A value as LOAD DATA's default format reads it (tab-separated, backslash escapes)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def per_row(url: str, dataset: Dataset) -> float:
    connection = _driver(url)
    try:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for name in _order(dataset):
                table = metadata.tables[name]
                keys = [column.name for column in table.primary_key]
                where = " AND ".join(f"`{key}` = %s" for key in keys)
                select = f"SELECT 1 FROM `{name}` WHERE {where}"
                columns = ", ".join(f"`{column.name}`" for column in table.columns)
                marks = ", ".join("%s" for _ in table.columns)
                insert = f"INSERT INTO `{name}` ({columns}) VALUES ({marks})"
                for row in dataset[name].values():
                    values = _values(table, row)
                    cursor.execute(select, [values[table.columns.keys().index(k)] for k in keys])
                    if cursor.fetchone() is None:
                        cursor.execute(insert, values)
        connection.commit()
        return time.perf_counter() - started
    finally:
        connection.close()


CONTENDERS: dict[str, Callable[[str, Dataset], float]] = {
    "engine": engine,
    "floor": floor,
    "per_row": per_row,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--url", default=os.environ.get("BENCH_MYSQL_URL", DEFAULT_URL))
    parser.add_argument("--budget", type=float, default=120.0)
    args = parser.parse_args(argv)
    scales = [int(scale) for scale in args.scales.split(",")]
    results: dict[int, dict[str, float | None]] = {}
    last: dict[str, tuple[int, float]] = {}
    for scale in scales:
        dataset = generate(scale)
        results[scale] = {}
        for name, run in CONTENDERS.items():
            previous = last.get(name)
            if previous is not None and previous[1] * scale / previous[0] > args.budget:
                results[scale][name] = None
                continue
            with scratch_database(args.url, f"seeds_bench_{os.getpid()}_{name}_{scale}") as url:
                seconds = run(url, dataset)
            results[scale][name] = seconds
            last[name] = (scale, seconds)
        results[scale]["rows"] = row_count(dataset)
    print("| scale | rows | engine | floor (LOAD DATA) | per-row | engine / floor |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for scale, cells in results.items():
        shown = [f"{cells[n]:.2f} s" if cells[n] is not None else "stopped" for n in CONTENDERS]
        ratio = (
            f"{cells['engine'] / cells['floor']:.1f}x"
            if cells["engine"] is not None and cells["floor"]
            else "-"
        )
        print(f"| x{scale} | {cells['rows']:,.0f} | {' | '.join(shown)} | {ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
