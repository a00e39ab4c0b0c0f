"""examples/catalogue, copied out as someone copies it, run with the guide's CI commands on
SQLite and PostgreSQL: seed data that validates and is captured by the revisions; a data
change and its revision (a forgotten one fails ``seeds check``); ``alembic upgrade heads`` on
an empty database gives exactly what ``seeddata/`` says, and ``seeds check --db`` passes on it;
``alembic downgrade seeds@-1`` gives back exactly the example's data.

The copy has nothing of this repository but alembic-seeds, installed.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest
import sqlalchemy as sa

from alembic_seeds import derive_spec
from alembic_seeds.apply.snapshot import read_dataset
from alembic_seeds.changes.changeset import Dataset
from alembic_seeds.dataset.load import load_seeddata
from tests.databases import engine_for
from tests.guide_steps import EXAMPLE, Step, commands, copy_example, guide_steps, run_ok, shell

#: The database the guide's CI block names.
CI_DATABASE = "sqlite:///$PWD/ci.db"


def example_metadata() -> sa.MetaData:
    """The example's models, imported from their file (the example is no package of ours)."""
    spec = importlib.util.spec_from_file_location(
        "catalogue_example_models", EXAMPLE / "catalogue" / "models.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    metadata: sa.MetaData = module.Base.metadata
    return metadata


METADATA = example_metadata()
SPEC = derive_spec(METADATA)


def seeddata_rows(folder: Path) -> Dataset:
    return load_seeddata(folder, SPEC, METADATA).rows


def database_rows(url: str) -> Dataset:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return read_dataset(connection, METADATA, SPEC.tables())
    finally:
        engine.dispose()


def ci_steps() -> list[Step]:
    """The guide's CI section: the checks without a database, then the empty-database run."""
    steps = [step for step in guide_steps() if step.section == "8. CI" and step.kind == "run"]
    assert [commands(step) for step in steps] == [
        [".venv/bin/seeds validate", ".venv/bin/seeds check"],
        [
            f"DATABASE_URL={CI_DATABASE} .venv/bin/alembic upgrade heads",
            f"DATABASE_URL={CI_DATABASE} .venv/bin/seeds check --db",
            f"DATABASE_URL={CI_DATABASE} .venv/bin/alembic downgrade seeds@-1",
        ],
    ]
    return steps


def edit(seeddata: Path) -> None:
    """A data change of every kind: an update, a delete, an insert without an id, a rename."""
    path = seeddata / "product.jsonl"
    products = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    products = [product for product in products if product["sku"] != "SPADE"]
    products[0]["price_cents"] = 2990
    products.append(
        {"sku": "RAKE", "name": "Rake", "price_cents": 1990, "category": "garden-tools"}
    )
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products), "utf-8")
    # A category renamed on its own line: the products naming it follow.
    categories = seeddata / "category.jsonl"
    text = categories.read_text("utf-8")
    categories.write_text(text.replace('"slug": "pans"', '"slug": "frying-pans"'), "utf-8")


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example whose seed data was changed, with the revision that captures it."""
    root = copy_example(tmp_path_factory.mktemp("example") / "catalogue")
    checks, _ = ci_steps()
    run_ok(checks.body, root)
    edit(root / "seeddata")
    uncaptured = shell(".venv/bin/seeds check", root)
    assert uncaptured.returncode == 1, uncaptured.stdout + uncaptured.stderr
    run_ok('.venv/bin/seeds revision --autogenerate -m "rake; no spade; cheaper pan"', root)
    run_ok(".venv/bin/seeds check", root)
    # The revision wrote the new row's id and the renamed slug into seeddata/.
    products = (root / "seeddata" / "product.jsonl").read_text("utf-8")
    assert '"sku": "RAKE"' in products and '"id": 5' in products
    assert '"category": "frying-pans"' in products
    return root


def test_the_example_copied_out_upgrades_downgrades_and_checks(changed: Path, db_url: str) -> None:
    _, on_database = ci_steps()
    upgrade, check, downgrade = (
        command.replace(f"DATABASE_URL={CI_DATABASE}", f"DATABASE_URL={shlex.quote(db_url)}")
        for command in commands(on_database)
    )
    run_ok(upgrade, changed)
    assert database_rows(db_url) == seeddata_rows(changed / "seeddata")
    run_ok(check, changed)
    run_ok(downgrade, changed)
    assert database_rows(db_url) == seeddata_rows(EXAMPLE / "seeddata")
