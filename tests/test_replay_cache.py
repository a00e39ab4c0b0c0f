"""The replay cache changes how long replay takes, never what it finds.

Each test warms the cache, then changes the history (a revision added, an old one edited or
deleted, a schema revision edited) or the cache itself (corrupt, crafted, unwritable), and
replays through the cache: the result must equal a full replay with no cache at all.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory

from alembic_seeds.dataset.load import primary_keys
from alembic_seeds.errors import ReplayError
from alembic_seeds.migration import replay as replay_module
from alembic_seeds.migration.autogenerate import autogenerate
from alembic_seeds.migration.config import SeedsProject
from alembic_seeds.migration.replay import Loss, Replayed, replay_branch, replay_under
from alembic_seeds.migration.replay_cache import Cached, ReplayCache, cache_folder
from tests.fixture_projects import WORKSHOP, copy_project

IMPORT = "20261201_2b7e4f90c1d3_import_the_workshop_catalogue.py"
RETIRE = "20261201_9c5d2e8a4f60_retire_the_chisel.py"
SCHEMA = "0001_7a31c0de5b12_workshop_schema.py"


def workshop(root: Path) -> SeedsProject:
    copy_project(root, WORKSHOP)
    return SeedsProject.from_config(Config(str(root / "alembic.ini")))


def versions(project: SeedsProject) -> Path:
    return project.versions


def cache(project: SeedsProject) -> Path:
    return cache_folder(Path(ScriptDirectory.from_config(project.config).dir))


def replayed(project: SeedsProject) -> Replayed:
    """The branch replayed through the cache, by a fresh ScriptDirectory (as a command)."""
    scripts = ScriptDirectory.from_config(project.config)
    keys = primary_keys(project.metadata, project.spec.tables())
    return replay_branch(scripts, project.branch, keys, project.metadata)


def full_replay(project: SeedsProject) -> Replayed:
    """The branch replayed with no cache (and none left behind)."""
    shutil.rmtree(cache(project), ignore_errors=True)
    result = replayed(project)
    shutil.rmtree(cache(project))
    return result


def assert_same(found: Replayed, wanted: Replayed) -> None:
    assert found.state == wanted.state
    assert found.losses == wanted.losses
    assert found.tables == wanted.tables


@pytest.fixture
def applied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The data revisions whose change sets replay applies, in order."""
    found: list[str] = []
    apply = replay_module._apply

    def counting(state: Any, script: Any, data: Any, keys: Any) -> None:
        found.append(script.revision)
        apply(state, script, data, keys)

    monkeypatch.setattr(replay_module, "_apply", counting)
    return found


def test_a_second_replay_applies_no_revision_and_finds_the_same(
    tmp_path: Path, applied: list[str]
) -> None:
    project = workshop(tmp_path)
    first = replayed(project)
    assert applied == ["2b7e4f90c1d3", "9c5d2e8a4f60"]
    assert (cache(project) / ".gitignore").read_text().splitlines()[-1] == "*"

    applied.clear()
    second = replayed(project)

    assert applied == []
    assert_same(second, first)
    assert first.state["tool"] == {
        (1,): {"id": 1, "name": "Hammer", "weight_grams": 600},
        (2,): {"id": 2, "name": "Saw", "weight_grams": 450},
    }


def test_a_new_revision_is_replayed_on_the_cached_state(tmp_path: Path, applied: list[str]) -> None:
    project = workshop(tmp_path)
    replayed(project)
    with (project.seeddata / "materials.jsonl").open("a", encoding="utf-8") as file:
        file.write(json.dumps({"name": "Brass"}) + "\n")
    generated = autogenerate(project, "brass")
    assert generated is not None
    applied.clear()

    found = replayed(project)

    assert applied == [generated.revision]
    assert_same(found, full_replay(project))
    assert (3,) in found.state["material"]


def test_an_edited_old_revision_is_replayed_in_full(tmp_path: Path, applied: list[str]) -> None:
    project = workshop(tmp_path)
    replayed(project)
    path = versions(project) / IMPORT
    text = path.read_text("utf-8")
    path.write_text(text.replace('"weight_grams": 600', '"weight_grams": 6500'), "utf-8")
    applied.clear()

    found = replayed(project)

    assert applied == ["2b7e4f90c1d3", "9c5d2e8a4f60"]
    assert_same(found, full_replay(project))
    assert found.state["tool"][(1,)]["weight_grams"] == 6500


def test_a_deleted_revision_is_replayed_in_full(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    cached = replayed(project)
    (versions(project) / RETIRE).unlink()

    found = replayed(project)

    assert_same(found, full_replay(project))
    assert (5,) in found.state["tool"] and (5,) not in cached.state["tool"]


def test_an_edited_schema_revision_is_replayed_in_full(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    replayed(project)
    path = Path(ScriptDirectory.from_config(project.config).dir) / "versions" / SCHEMA
    text = path.read_text("utf-8")
    column = 'sa.Column("weight_grams", sa.Integer),'
    required = column + '\n        sa.Column("maker", sa.Text, nullable=False),'
    path.write_text(text.replace(column, required, 1), "utf-8")

    with pytest.raises(ReplayError, match="without maker"):
        replayed(project)
    with pytest.raises(ReplayError, match="without maker"):
        full_replay(project)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "header"])
def test_a_corrupt_cache_is_not_used_and_is_written_anew(
    tmp_path: Path, applied: list[str], damage: str
) -> None:
    project = workshop(tmp_path)
    wanted = replayed(project)
    (payload,) = cache(project).glob("*.pickle")
    (header,) = cache(project).glob("*.json")
    data = payload.read_bytes()
    if damage == "truncated":
        payload.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        middle = len(data) // 2
        payload.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:
        header.write_text("{not json", "utf-8")
    applied.clear()

    found = replayed(project)

    assert applied == ["2b7e4f90c1d3", "9c5d2e8a4f60"]
    assert_same(found, wanted)
    applied.clear()
    assert_same(replayed(project), wanted)
    assert applied == []


def test_the_cache_reads_plain_data_only(tmp_path: Path) -> None:
    """A payload naming a class (here a Loss object, with a header that vouches for it)
    is refused: reading a cache file builds no object of any class."""
    store = ReplayCache(tmp_path, ["identity"], {"tool": ["id"]})
    steps = [("a1", "v1:digest", True)]
    crafted: Any = [Loss("a1", "tool", None, 1)]
    store.save(Cached(steps, {}, crafted, {}, {}))
    assert store.header.exists()

    assert store.load(steps) is None

    store.save(Cached(steps, {"tool": {(1,): {"id": 1}}}, [("a1", "tool", None, 1)], {}, {}))
    loaded = store.load(steps)
    assert loaded is not None and loaded.state == {"tool": {(1,): {"id": 1}}}


def test_a_packed_state_reads_back_equal_in_the_same_order(tmp_path: Path) -> None:
    """The payload keeps column names once per shape of row and each key only in its
    row; rows of several shapes, a table with no known primary key and a key that is not
    its row's read back as they were written, in their order."""
    state: Any = {
        "tool": {
            (3,): {"id": 3, "name": "saw"},
            (1,): {"id": 1, "name": "plane", "size": None},
            (2,): {"id": 2, "name": "rasp"},
        },
        "link": {("a", 1): {"left": "a", "right": 1}},
        "unknown": {(9,): {"id": 9}},
        "rekeyed": {(5,): {"id": 6}},
        "empty": {},
    }
    keys = {"tool": ["id"], "link": ["left", "right"], "rekeyed": ["id"], "empty": ["id"]}
    store = ReplayCache(tmp_path, ["identity"], keys)
    steps = [("a1", "v1:digest", True)]
    store.save(Cached(steps, state, [], {}, {}))

    loaded = store.load(steps)

    assert loaded is not None and loaded.state == state
    assert [list(rows) for rows in loaded.state.values()] == [list(rows) for rows in state.values()]
    assert [list(row) for row in loaded.state["tool"].values()] == [
        ["id", "name"],
        ["id", "name", "size"],
        ["id", "name"],
    ]
    first, second = loaded.state["tool"][(3,)], loaded.state["tool"][(2,)]
    assert next(iter(first)) is next(iter(second))  # one copy of each column name


def test_a_cache_folder_that_cannot_be_made_leaves_replay_as_it_is(tmp_path: Path) -> None:
    project = workshop(tmp_path)
    wanted = full_replay(project)
    cache(project).write_text("a file where the cache folder would go", "utf-8")

    assert_same(replayed(project), wanted)
    assert cache(project).is_file()


def test_a_shorter_history_leaves_the_longer_cache_in_place(
    tmp_path: Path, applied: list[str]
) -> None:
    """``seeds check --db`` replays what a database's heads hold: a database at an older
    revision replays a shorter history, which leaves the cache of the longer one alone."""
    project = workshop(tmp_path)
    keys = primary_keys(project.metadata, project.spec.tables())

    def under(head: str) -> Replayed:
        return replay_under(ScriptDirectory.from_config(project.config), [head], keys)

    at_head = under("9c5d2e8a4f60")
    older = under("2b7e4f90c1d3")
    assert (5,) in older.state["tool"] and (5,) not in at_head.state["tool"]
    applied.clear()

    assert_same(under("9c5d2e8a4f60"), at_head)
    assert applied == []
    assert len(list(cache(project).glob("*.pickle"))) == 1
