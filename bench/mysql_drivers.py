"""PyMySQL against mysqlclient, and multi-row INSERT against LOAD DATA LOCAL INFILE, on the
staging load of the engine: the Translation rows (id, English, Hebrew) of a scale of the
benchmark data, into a temporary table of the same shape.

    python -m bench.mysql_drivers [--scale 100] [--reps 3] [--url mysql://root@127.0.0.1/test]

mysqlclient is not a dependency of the project (it builds against the MariaDB client
library); where it is not installed, its rows are left out.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from bench.generate import reference

CREATE = (
    "CREATE TEMPORARY TABLE drivers_staging (v0 VARCHAR(191) NOT NULL, v1 TEXT, v2 TEXT)"
    " CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin"
)
INSERT = "INSERT INTO drivers_staging (v0, v1, v2) VALUES (%s, %s, %s)"


def _connect(module: str, url: str) -> Any:
    parsed = make_url(url)
    driver = importlib.import_module(module)
    options: dict[str, Any] = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "database": parsed.database or "test",
        "charset": "utf8mb4",
        "local_infile": True,
    }
    if module == "MySQLdb":
        options["local_infile"] = 1
    return driver.connect(**options)


def _executemany(connection: Any, rows: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cursor:
        # Both drivers rewrite an INSERT ... VALUES executemany into multi-row INSERTs.
        cursor.executemany(INSERT, rows)


def _load_data(connection: Any, rows: list[tuple[str, str, str]]) -> None:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".tsv", delete=False) as out:
        for row in rows:
            out.write("\t".join(_escaped(value) for value in row) + "\n")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOAD DATA LOCAL INFILE '{out.name}' INTO TABLE drivers_staging"
                " CHARACTER SET utf8mb4 (v0, v1, v2)"
            )
    finally:
        os.unlink(out.name)


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _timed(
    module: str, url: str, load: Callable[[Any, list[tuple[str, str, str]]], None], rows: Any
) -> float:
    connection = _connect(module, url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(CREATE)
        started = time.perf_counter()
        load(connection, rows)
        seconds = time.perf_counter() - started
        connection.rollback()
        return seconds
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--url", default="mysql://root@127.0.0.1:3306/test")
    args = parser.parse_args(argv)
    # The real texts, each copy under fresh ids (and texts kept distinct by the copy number).
    real = list(reference()["Translation"].values())
    rows = [
        (f"{row['id']}-{copy}", f"{row['en_text']} {copy}", str(row["he_text"]))
        for copy in range(args.scale)
        for row in real
    ]
    print(f"{len(rows)} Translation rows (x{args.scale}), median of {args.reps} runs\n")
    print("| driver | multi-row INSERT (executemany) | LOAD DATA LOCAL INFILE |")
    print("| --- | ---: | ---: |")
    for label, module in (("PyMySQL 1.x (pure Python)", "pymysql"), ("mysqlclient (C)", "MySQLdb")):
        try:
            importlib.import_module(module)
        except ImportError:
            print(f"| {label} | not installed | not installed |")
            continue
        cells = [
            statistics.median(_timed(module, args.url, load, rows) for _ in range(args.reps))
            for load in (_executemany, _load_data)
        ]
        print(f"| {label} | {cells[0]:.3f} s | {cells[1]:.3f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
