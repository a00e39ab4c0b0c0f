"""Profiles of one piece of the benchmark, for whoever makes it faster.

``python -m bench.profile WHAT --scale N``, WHAT one of:

* ``upgrade``: ``alembic upgrade heads`` (whole command) into an empty database;
* ``autogenerate``: ``seeds revision --autogenerate`` of the import revision;
* ``engine``: ``apply_changes`` of the whole dataset as inserts, in process;
* ``incremental``: ``apply_changes`` of the 1,000-row change set on a loaded database;
* ``memory``: RSS after each step of the import revision's upgrade, in a fresh process.

py-spy samples the run from outside (wall clock: waiting for the server counts; no
per-call overhead, unlike a tracing profiler) and the functions are listed by time of their
own and by time including what they call. The raw stacks are saved under
``bench/results/profiles/`` (collapsed format: flamegraph.pl or speedscope read them).
``engine`` and ``incremental`` also list the SQL statements by time spent in them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alembic_seeds.apply.engine import apply_changes
from alembic_seeds.changes.changeset import ChangeSet, Dataset
from bench.contenders import insert_everything, run_command
from bench.db import PREFIX, SCHEMA_TEMPLATE, Server, default_url
from bench.generate import ROOT, generate, make_project, tool
from bench.incremental import change_set, load
from lumina.models import metadata

OUT = Path(__file__).resolve().parent / "results" / "profiles"
RATE = 250  # samples per second
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*)\)$")


def _py_spy() -> str:
    found = tool("py-spy")
    if not Path(found).exists() and shutil.which(found) is None:
        raise SystemExit("py-spy is needed: pip install -e '.[bench]'")
    return found


def _sample() -> list[str]:
    """py-spy's sampling options: raw stacks, wall clock (idle included), functions not lines."""
    return [_py_spy(), "record", "-f", "raw", "-r", str(RATE), "--idle", "--nolineno"]


def _short(frame: str) -> str:
    """``f (…/site-packages/psycopg/connection.py)`` -> ``psycopg/connection.py:f``."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3.", f"{ROOT}/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = "stdlib/" + path.split("/", 1)[1]
            break
    return f"{path}:{match['function']}"


def summarize(raw: Path, top: int, focus: str | None = None) -> str:
    """Self and inclusive time per function from py-spy's raw (collapsed) stacks.

    With ``focus``, only the samples whose stack holds a frame ending with it count.
    """
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";")]
        # The first frame is the thread ("process 123:"...); keep Python frames only.
        frames = [f for f in frames if ":" in f and not f.startswith("process ")]
        if not frames or (focus and not any(f.endswith(focus) for f in frames)):
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    seconds = total / RATE
    lines = [f"{total} samples = {seconds:.1f} s of wall time (py-spy, {RATE} Hz, idle included)"]
    lines.append("\nfunctions by time of their own:")
    lines += [f"  {100 * n / total:5.1f}%  {n / RATE:7.2f} s  {f}" for f, n in own.most_common(top)]
    lines.append("\nfunctions by time including what they call:")
    lines += [
        f"  {100 * n / total:5.1f}%  {n / RATE:7.2f} s  {f}"
        for f, n in inclusive.most_common(top * 2)
    ]
    return "\n".join(lines)


def _record_command(args: list[str], cwd: Path, env: dict[str, str], name: str) -> Path:
    """Run ``args`` under py-spy; returns the raw stacks file."""
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"{name}.stacks.txt"
    command = [*_sample(), "-o", str(raw), "--", *args]
    started = time.perf_counter()
    completed = subprocess.run(
        command, cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{completed.stderr[-3000:]}")
    print(f"{Path(args[0]).name} {' '.join(args[1:])}: {seconds:.2f} s (under py-spy)")
    return raw


@contextmanager
def _recording(name: str) -> Iterator[Path]:
    """py-spy samples this process while the block runs."""
    OUT.mkdir(parents=True, exist_ok=True)
    raw = OUT / f"{name}.stacks.txt"
    raw.unlink(missing_ok=True)
    spy = subprocess.Popen(
        [*_sample(), "-o", str(raw), "--pid", str(os.getpid())],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # let it attach
    try:
        yield raw
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


@contextmanager
def _statement_times(engine: sa.Engine) -> Iterator[dict[str, list[float]]]:
    """Seconds per SQL statement (by its first 90 characters) run through ``engine``."""
    times: dict[str, list[float]] = defaultdict(list)
    started: list[float] = []

    def before(*_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        key = " ".join(statement.split())[:90]
        times[key].append(time.perf_counter() - started.pop())

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield times
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def _print_statements(times: dict[str, list[float]], total: float, top: int) -> None:
    spent = sum(sum(v) for v in times.values())
    count = sum(len(v) for v in times.values())
    print(
        f"\nSQL statements through SQLAlchemy: {count}, {spent:.3f} s "
        f"({spent / total:.0%} of {total:.3f} s; COPY is not among them)"
    )
    ranked = sorted(times.items(), key=lambda item: -sum(item[1]))
    for statement, runs in ranked[:top]:
        print(f"  {sum(runs):8.3f} s  {len(runs):4}x  {statement}")


def _timed_apply(connection: sa.Connection, changes: ChangeSet) -> float:
    """apply_changes + commit: the part of the profile that is reported."""
    started = time.perf_counter()
    apply_changes(connection, metadata, changes)
    connection.commit()
    return time.perf_counter() - started


def _apply_profiled(server: Server, database: str, changes: ChangeSet, name: str, top: int) -> None:
    engine = server.engine(database)
    try:
        with engine.connect() as connection, _statement_times(engine) as times:
            connection.exec_driver_sql("SELECT 1")
            connection.commit()
            times.clear()
            with _recording(name) as raw:
                total = _timed_apply(connection, changes)
        print(f"apply_changes + commit: {total:.3f} s")
        print(summarize(raw, top, focus=":_timed_apply"))
        _print_statements(times, total, top)
    finally:
        engine.dispose()


def profile_engine(server: Server, dataset: Dataset, scale: int, top: int) -> None:
    database = server.with_schema(f"{PREFIX}profile_engine")
    server.checkpoint()
    try:
        _apply_profiled(server, database, insert_everything(dataset), f"engine_x{scale}", top)
    finally:
        server.drop(database)


def profile_incremental(server: Server, dataset: Dataset, scale: int, top: int) -> None:
    database = server.with_schema(f"{PREFIX}profile_incremental")
    try:
        load(server, database, dataset)
        server.checkpoint()
        changes = change_set(dataset)
        _apply_profiled(server, database, changes, f"incremental_x{scale}", top)
    finally:
        server.drop(database)


def _project(dataset: Dataset, scale: int, seed: int, workdir: Path) -> Path:
    """A scratch project with its import revision; reused when one of the same data exists."""
    folder = workdir / f"profile_x{scale}"
    marker = folder / ".bench-data"
    if marker.exists() and marker.read_text() == f"{scale}:{seed}":
        return folder
    make_project(folder, dataset)
    command = run_command([tool("seeds"), "revision", "--autogenerate", "-m", "import"], folder)
    if command.returncode != 0:
        raise RuntimeError(command.output[-3000:])
    marker.write_text(f"{scale}:{seed}")
    return folder


def profile_upgrade(
    server: Server, dataset: Dataset, *, scale: int, seed: int, top: int, workdir: Path
) -> None:
    folder = _project(dataset, scale, seed, workdir)
    database = server.create(f"{PREFIX}profile_upgrade")
    server.checkpoint()
    try:
        raw = _record_command(
            [tool("alembic"), "upgrade", "heads"],
            folder,
            {"DATABASE_URL": server.url_for(database)},
            f"upgrade_x{scale}",
        )
        print(summarize(raw, top))
    finally:
        server.drop(database)


def profile_autogenerate(dataset: Dataset, scale: int, top: int, workdir: Path) -> None:
    folder = make_project(workdir / f"profile_autogenerate_x{scale}", dataset)
    raw = _record_command(
        [tool("seeds"), "revision", "--autogenerate", "-m", "import"],
        folder,
        {},
        f"autogenerate_x{scale}",
    )
    print(summarize(raw, top))


def profile_memory(server: Server, dataset: Dataset, scale: int, seed: int, workdir: Path) -> None:
    """RSS of a fresh process after each step the import revision's upgrade takes."""
    folder = _project(dataset, scale, seed, workdir)
    sidecars = sorted((folder / "data_migrations" / "versions").glob("*.changes.jsonl"))
    database = server.with_schema(f"{PREFIX}profile_memory")
    size = sidecars[0].stat().st_size / 2**20
    print(f"sidecar: {sidecars[0].name}, {size:.0f} MB")
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.profile", "_memory_steps", str(sidecars[0])],
            env={**os.environ, "DATABASE_URL": server.url_for(database)},
            check=True,
            capture_output=True,
            text=True,
        )
        print(completed.stdout, end="")
    finally:
        server.drop(database)


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB.

    From /proc (VmRSS, VmHWM): ``ru_maxrss`` would include the parent's memory, which a
    child started by ``subprocess`` shares until it executes Python.
    """
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return fields["VmRSS"], fields["VmHWM"]


def _memory_steps(sidecar: Path) -> None:
    """The steps of ``DataRevision.upgrade`` one by one, with RSS after each (child process)."""
    from alembic_seeds.migration.environment import make_engine  # noqa: PLC0415
    from alembic_seeds.migration.revision import DataRevision  # noqa: PLC0415

    def step(name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        current, peak = _rss_mb()
        seconds = time.perf_counter() - started
        print(f"  {name:58} {seconds:7.2f} s  RSS {current:7.0f} MB  peak {peak:7.0f} MB")
        return result

    step("imports (alembic_seeds, lumina.models, SQLAlchemy)", lambda: None)
    module_file = sidecar.with_name(sidecar.name.removesuffix(".changes.jsonl") + ".py")
    revision = DataRevision("profile", str(module_file), sidecar=sidecar.name)
    changes: ChangeSet = step("DataRevision.change_set() (reads the sidecar)", revision.change_set)
    step("ChangeSet.checksum()", changes.checksum)
    engine = make_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        step("apply_changes", lambda: apply_changes(connection, metadata, changes))
        step("commit", connection.commit)
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_memory_steps"]:
        _memory_steps(Path(argv[1]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument(
        "what", choices=["upgrade", "autogenerate", "engine", "incremental", "memory"]
    )
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=15, help="functions / statements listed")
    parser.add_argument("--url", default=default_url())
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/seeds-bench-profile"))
    args = parser.parse_args(argv)
    server = Server(args.url)
    server.make_schema_template()
    try:
        _profile(server, args)
    finally:
        server.drop(SCHEMA_TEMPLATE)
    return 0


def _profile(server: Server, args: argparse.Namespace) -> None:
    dataset = generate(args.scale, args.seed)
    print(f"{args.what} at x{args.scale}: {sum(len(r) for r in dataset.values()):,} rows")
    if args.what == "engine":
        profile_engine(server, dataset, args.scale, args.top)
    elif args.what == "incremental":
        profile_incremental(server, dataset, args.scale, args.top)
    elif args.what == "upgrade":
        profile_upgrade(
            server, dataset, scale=args.scale, seed=args.seed, top=args.top, workdir=args.workdir
        )
    elif args.what == "autogenerate":
        profile_autogenerate(dataset, args.scale, args.top, args.workdir)
    else:
        profile_memory(server, dataset, args.scale, args.seed, args.workdir)


if __name__ == "__main__":
    raise SystemExit(main())
