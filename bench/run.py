"""The benchmark, in one command: ``python -m bench [--scales 1,10,100,1000] [--quick]``.

Prints a markdown report (and writes it, the raw numbers as JSON and a log-log plot into
``bench/results/``). Progress goes to stderr. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic_seeds.changes.changeset import Dataset
from bench.contenders import IN_PROCESS, count_rows, run_command, upgrade_heads
from bench.db import PREFIX, Server, default_url, machine
from bench.generate import generate, make_project, row_count, tool
from bench.incremental import incremental, noop
from bench.report import markdown, plot
from bench.results_model import CONTENDERS, Cell, Results, Timed

RESULTS = Path(__file__).resolve().parent / "results"
#: Order in which the contenders run at each scale (the floor first).
RUN_ORDER = ("copy", "engine", "upgrade", "per_row", "per_row_autocommit", "orm")


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def git_state() -> str:
    """The commit measured, and whether engine files differ from it."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        completed = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        return completed.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--", "alembic_seeds", "lumina", "migrations")
    count = len(changed.splitlines())
    return f"commit {commit}" + (f" + {count} uncommitted engine file(s)" if count else "")


def _reps(scale: int, override: int | None) -> int:
    if override is not None:
        return override
    if scale <= 10:
        return 5
    if scale <= 100:
        return 3
    return 1


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark alembic-seeds against its alternatives."
    )
    parser.add_argument(
        "--scales",
        default=None,
        help="comma-separated multiples of the real data (default: 1,10,100,1000)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="scales 1,10 (unless --scales is given), one run per measurement",
    )
    parser.add_argument("--reps", type=int, help="runs per measurement at every scale")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (default 0)")
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds one run may be predicted to take before a contender stops (default 120)",
    )
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of {','.join(CONTENDERS)}",
    )
    parser.add_argument("--no-incremental", action="store_true", help="skip the incremental runs")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op upgrade runs")
    parser.add_argument(
        "--url", default=default_url(), help="server URL (default: $BENCH_DATABASE_URL, ...)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/tmp/seeds-bench"),
        help="scratch projects for `alembic upgrade heads` (removed at the end)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch projects")
    args = parser.parse_args(argv)
    if args.scales is None:
        args.scales = "1,10" if args.quick else "1,10,100,1000"
    if args.quick and args.reps is None:
        args.reps = 1
    args.scale_list = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    args.contender_list = [c for c in RUN_ORDER if c in args.contenders.split(",")]
    return args


class Bench:
    def __init__(self, args: argparse.Namespace, server: Server, results: Results) -> None:
        self.args = args
        self.server = server
        self.results = results
        #: Contender -> (scale, median seconds) of its last measured scale.
        self.last: dict[str, tuple[int, float]] = {}
        self.stopped: dict[str, str] = {}

    def save(self) -> None:
        out: Path = self.args.out
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(self.results.to_json(), indent=2) + "\n")
        (out / "results.md").write_text(markdown(self.results))
        plot(self.results, out / "bench.png")

    def run_scale(self, scale: int) -> None:
        args = self.args
        load_at_start = os.getloadavg()[0]
        started = time.perf_counter()
        dataset = generate(scale, args.seed)
        rows = row_count(dataset)
        self.results.generate[scale] = Timed(time.perf_counter() - started)
        _log(f"x{scale}: {rows:,} rows generated in {self.results.generate[scale].seconds:.1f} s")

        project: Path | None = None
        if "upgrade" in args.contender_list and not self._stop("upgrade", scale):
            project = self._project(scale, dataset)

        for contender in args.contender_list:
            cell = Cell(contender, scale, rows)
            self.results.cells.append(cell)
            if contender == "upgrade" and project is None:
                cell.stopped = self.stopped.get(contender, "not run")
            elif self._stop(contender, scale):
                cell.stopped = self.stopped[contender]
            else:
                self._measure(cell, dataset, project)
                assert cell.median is not None
                self.last[contender] = (scale, cell.median)
            gc.collect()

        if not args.no_incremental and scale in self._incremental_scales():
            runs = 3 if args.quick else 5
            _log(f"x{scale}: incremental, {runs} runs")
            database = f"{PREFIX}incremental_x{scale}"
            self.results.incremental.append(
                incremental(self.server, database, dataset, scale=scale, runs=runs, seed=args.seed)
            )
        self.results.load[scale] = (load_at_start, os.getloadavg()[0])
        if project is not None and not args.keep:
            shutil.rmtree(project, ignore_errors=True)
        del dataset
        gc.collect()

    def _measure(self, cell: Cell, dataset: Dataset, project: Path | None) -> None:
        """The runs of one contender at one scale, each on a fresh database."""
        contender, scale = cell.contender, cell.scale
        reps = self.results.reps[scale]
        database = f"{PREFIX}{contender}_x{scale}"
        for rep in range(reps):
            if contender == "upgrade":
                assert project is not None
                self.server.create(database)
                self.server.checkpoint()
                command = upgrade_heads(self.server, database, project)
                cell.runs.append(command.seconds)
                cell.rss_mb.append(command.max_rss_mb)
            else:
                self.server.with_schema(database)
                self.server.checkpoint()
                cell.runs.append(IN_PROCESS[contender](self.server, database, dataset))
            loaded = count_rows(self.server, database)
            if loaded != cell.rows:
                raise RuntimeError(f"{contender} x{scale}: {loaded} rows, expected {cell.rows}")
            _log(f"x{scale}: {contender} run {rep + 1}/{reps}: {cell.runs[-1]:.3f} s")
            if contender == "upgrade" and rep == reps - 1 and not self.args.no_noop:
                assert project is not None
                runs = 3 if self.args.quick else 5
                _log(f"x{scale}: no-op upgrade vs current, {runs} runs each")
                result = noop(self.server, database, project, scale=scale, runs=runs)
                self.results.noop.append(result)
            self.server.drop(database)

    def _incremental_scales(self) -> set[int]:
        scales = self.args.scale_list
        small = 10 if 10 in scales else scales[0]
        return {small, scales[-1]}

    def _stop(self, contender: str, scale: int) -> bool:
        """Whether ``contender`` skips ``scale``: stopped before, or predicted over budget."""
        if contender in self.stopped:
            return True
        last = self.last.get(contender)
        if last is None:
            return False
        last_scale, seconds = last
        predicted = seconds * scale / last_scale
        if predicted > self.args.budget:
            self.stopped[contender] = (
                f"stopped after x{last_scale} (x{scale} predicted {predicted:.0f} s > "
                f"budget {self.args.budget:.0f} s)"
            )
            _log(f"x{scale}: {contender} {self.stopped[contender]}")
            return True
        return False

    def _project(self, scale: int, dataset: Dataset) -> Path:
        folder: Path = self.args.workdir / f"x{scale}"
        started = time.perf_counter()
        make_project(folder, dataset)
        self.results.seeddata[scale] = Timed(time.perf_counter() - started)
        command = run_command(
            [tool("seeds"), "revision", "--autogenerate", "-m", "import the reference data"],
            folder,
        )
        if command.returncode != 0:
            raise RuntimeError(f"seeds revision --autogenerate failed:\n{command.output[-3000:]}")
        self.results.autogenerate[scale] = Timed(command.seconds, command.max_rss_mb)
        _log(
            f"x{scale}: seeddata written in {self.results.seeddata[scale].seconds:.1f} s, "
            f"autogenerate {command.seconds:.1f} s, {command.max_rss_mb:.0f} MB"
        )
        return folder


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    server = Server(args.url)
    started = time.perf_counter()
    server.drop_all()
    results = Results(
        machine=f"{machine(server).line()}; alembic-seeds {git_state()}",
        seed=args.seed,
        scales=args.scale_list,
        reps={s: _reps(s, args.reps) for s in args.scale_list},
        budget=args.budget,
    )
    results.schema_seconds = server.make_schema_template()
    _log(f"schema template made in {results.schema_seconds:.2f} s; {results.machine}")
    bench = Bench(args, server, results)
    try:
        for scale in args.scale_list:
            bench.run_scale(scale)
            results.total_seconds = time.perf_counter() - started
            bench.save()
    finally:
        server.drop_all()
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    results.total_seconds = time.perf_counter() - started
    bench.save()
    print(markdown(results))
    _log(
        f"written: {args.out / 'results.md'}, {args.out / 'results.json'}, {args.out / 'bench.png'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
