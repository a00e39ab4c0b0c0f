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
from contextlib import ExitStack
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic_seeds.changes.changeset import Dataset
from bench import network
from bench.contenders import IN_PROCESS, count_rows, engine_alone, run_command, upgrade_heads
from bench.db import PREFIX, Server, default_url, machine
from bench.generate import generate, make_project, row_count, tool
from bench.history import HISTORY_SCALES, QUICK_HISTORY_SCALES, history_growth
from bench.incremental import incremental, noop
from bench.latency import Proxy, proxy
from bench.report import markdown, plot
from bench.results_model import CONTENDERS, Cell, Results, Timed
from bench.review import review_commands
from bench.startup import bare_project

RESULTS = Path(__file__).resolve().parent / "results"
#: Order in which the contenders run at each scale (the floor first).
RUN_ORDER = ("copy", "engine", "upgrade", "per_row", "per_row_autocommit", "orm")
#: The quick run's scales; these always run whole, whatever the time budget predicts.
QUICK_SCALES = (1, 10)


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
    parser.add_argument(
        "--rtts",
        default=",".join(f"{r:g}" for r in network.RTTS_MS),
        help="round trips (ms) the latency relay adds, comma-separated (default 0.5,2)",
    )
    parser.add_argument(
        "--latency-jobs",
        type=int,
        default=4,
        help="per-row runs at once through the relay, each its own process (default 4)",
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the runs over the relay")
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
        "--no-commands",
        action="store_true",
        help="skip seeds show / check --db / diff --db on the upgraded database",
    )
    parser.add_argument(
        "--no-history",
        action="store_true",
        help="skip seeds check / show over 1, 10 and 100 data revisions (bench/history.py)",
    )
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
        args.scales = ",".join(map(str, QUICK_SCALES)) if args.quick else "1,10,100,1000"
    if args.quick and args.reps is None:
        args.reps = 1
    args.scale_list = sorted({int(s) for s in args.scales.split(",") if s.strip()})
    args.contender_list = [c for c in RUN_ORDER if c in args.contenders.split(",")]
    args.rtt_list = [] if args.no_latency else [float(r) for r in args.rtts.split(",") if r]
    if any(r <= 0 for r in args.rtt_list):
        parser.error("--rtts: every round trip must be above 0 ms")
    if args.latency_jobs < 1:
        parser.error("--latency-jobs must be at least 1")
    return args


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        server: Server,
        results: Results,
        bare: Path,
        proxies: dict[float, Proxy],
    ) -> None:
        self.args = args
        self.server = server
        self.results = results
        #: The bare Alembic project, for the start-up comparison.
        self.bare = bare
        #: Round trip (ms) -> the relay adding it (0.0: the relay's own cost).
        self.proxies = proxies
        #: Contender (``name`` or ``name@RTTms``) -> (scale, median seconds) of its last scale.
        self.last: dict[str, tuple[int, float]] = {}
        self.stopped: dict[str, str] = {}
        #: Per-row runs through the relay waiting to run together.
        self.pending: list[tuple[Cell, network.Job]] = []

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

        if args.rtt_list:
            self._over_network(scale, dataset, project)

        if not args.no_incremental and scale in self._incremental_scales():
            runs = 3 if args.quick else 5
            _log(f"x{scale}: incremental, {runs} runs")
            database = f"{PREFIX}incremental_x{scale}"
            self.results.incremental.append(
                incremental(self.server, database, dataset, scale=scale, runs=runs, seed=args.seed)
            )
        history_scales = QUICK_HISTORY_SCALES if args.quick else HISTORY_SCALES
        if not args.no_history and project is not None and scale in history_scales:
            runs = 1 if args.quick or scale > 10 else 3
            _log(f"x{scale}: seeds check / show over 1, 10, 100 data revisions, {runs} run(s) each")
            # Last: the history grows the project and edits ``dataset``.
            self.results.history += history_growth(project, dataset, scale, runs)
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
            if contender == "upgrade" and rep == reps - 1:
                assert project is not None
                self._on_upgraded(scale, database, project)
            self.server.drop(database)

    def _on_upgraded(self, scale: int, database: str, project: Path) -> None:
        """The no-op upgrade and the review commands, on the database the upgrade filled."""
        if not self.args.no_noop:
            runs = 3 if self.args.quick else 5
            _log(f"x{scale}: no-op upgrade vs current vs bare Alembic current, {runs} runs each")
            result = noop(self.server, database, project, self.bare, scale=scale, runs=runs)
            self.results.noop.append(result)
        if not self.args.no_commands:
            _log(f"x{scale}: seeds show / check --db / diff --db")
            self.results.commands[scale] = review_commands(self.server, database, project)

    def _over_network(self, scale: int, dataset: Dataset, project: Path | None) -> None:
        """The contenders through the latency relay, at every round trip of the run."""
        args, server = self.args, self.server
        rows = row_count(dataset)
        reps = self.results.reps[scale]
        if scale == args.scale_list[0]:
            self._relay_cost(scale, dataset)
        for rtt in args.rtt_list:
            via = server.via(self.proxies[rtt].host, self.proxies[rtt].port)
            for contender in ("engine", "upgrade"):
                unavailable = ""
                if contender == "upgrade" and project is None:
                    unavailable = self.stopped.get(contender, "not run")
                cell = self._network_cell(contender, scale, rows, rtt, unavailable)
                if cell is None:
                    continue
                key = f"{contender}@{rtt:g}ms"
                for rep in range(reps):
                    database = f"{PREFIX}{contender}_{int(rtt * 1000)}us_x{scale}"
                    if contender == "upgrade":
                        assert project is not None
                        server.create(database)
                        server.checkpoint()
                        command = upgrade_heads(via, database, project)
                        cell.runs.append(command.seconds)
                        cell.rss_mb.append(command.max_rss_mb)
                    else:
                        server.with_schema(database)
                        server.checkpoint()
                        cell.runs.append(engine_alone(via, database, dataset))
                    loaded = count_rows(server, database)
                    server.drop(database)
                    if loaded != rows:
                        raise RuntimeError(f"{key} x{scale}: {loaded} rows, expected {rows}")
                    _log(f"x{scale}: {key} run {rep + 1}/{reps}: {cell.runs[-1]:.3f} s")
                assert cell.median is not None
                self.last[key] = (scale, cell.median)
        self._per_row_over_network(scale, rows)

    def _relay_cost(self, scale: int, dataset: Dataset) -> None:
        """The relay's own cost on a whole run: per-row through it with no delay, right
        after the direct per-row runs."""
        if "per_row" not in self.args.contender_list or 0.0 not in self.proxies:
            return
        cell = Cell("per_row", scale, row_count(dataset), rtt_ms=0.0)
        self.results.cells.append(cell)
        database = f"{PREFIX}per_row_relay_x{scale}"
        for _ in range(self.results.reps[scale]):
            cell.runs.append(network.overhead(self.server, self.proxies[0.0], database, dataset))
        _log(f"x{scale}: per_row through the relay at 0 ms: {cell.median:.3f} s")

    def _network_cell(
        self, contender: str, scale: int, rows: int, rtt: float, unavailable: str = ""
    ) -> Cell | None:
        """The cell of ``contender`` through the ``rtt`` relay at ``scale``, added to the
        results; None when it is not to run (not in this run; ``unavailable``, or stopped by
        the time budget: the cell says why)."""
        if contender not in self.args.contender_list:
            return None
        cell = Cell(contender, scale, rows, rtt_ms=rtt)
        self.results.cells.append(cell)
        key = f"{contender}@{rtt:g}ms"
        if unavailable:
            cell.stopped = unavailable
        elif self._stop(key, scale):
            cell.stopped = self.stopped[key]
        return None if cell.stopped else cell

    def _per_row_over_network(self, scale: int, rows: int) -> None:
        """The per-row contenders through the relay, several at once (``--latency-jobs``).

        They take minutes where the others take seconds, and mostly wait: the runs of the
        quick scales go together, after the last of them, the longest first; above, each
        scale's after its other runs (the time budget needs their medians)."""
        args = self.args
        # Per-row runs at x10 and above take a minute or more at 2 ms: one run, unless --reps.
        reps = (
            args.reps if args.reps is not None else (self.results.reps[scale] if scale == 1 else 1)
        )
        for rtt in args.rtt_list:
            via = self.server.via(self.proxies[rtt].host, self.proxies[rtt].port)
            for contender in network.PER_ROW:
                cell = self._network_cell(contender, scale, rows, rtt)
                if cell is None:
                    continue
                for rep in range(reps):
                    database = f"{PREFIX}{contender}_{int(rtt * 1000)}us_x{scale}_{rep}"
                    job = network.Job(contender, rtt, via.url, database, scale, args.seed, rows)
                    self.pending.append((cell, job))
        later = [s for s in args.scale_list if s > scale]
        if later and later[0] <= QUICK_SCALES[-1]:
            return
        pending = sorted(
            self.pending,
            key=lambda item: (
                -item[1].scale,
                -item[1].rtt_ms,
                network.PER_ROW.index(item[1].contender),
            ),
        )
        self.pending = []
        if not pending:
            return
        _log(f"{len(pending)} per-row runs through the relay, {args.latency_jobs} at once")
        seconds = network.run_jobs(
            self.server, [job for _, job in pending], workers=args.latency_jobs, log=_log
        )
        for cell, job in pending:
            cell.runs.append(seconds[job])
        for cell, _ in pending:
            assert cell.median is not None and cell.rtt_ms is not None
            key = f"{cell.contender}@{cell.rtt_ms:g}ms"
            # The budget predicts from the largest scale measured (the quick scales' runs
            # come back together).
            if cell.scale >= self.last.get(key, (0, 0.0))[0]:
                self.last[key] = (cell.scale, cell.median)

    def _incremental_scales(self) -> set[int]:
        scales = self.args.scale_list
        small = 10 if 10 in scales else scales[0]
        return {small, scales[-1]}

    def _stop(self, contender: str, scale: int) -> bool:
        """Whether ``contender`` skips ``scale``: stopped before, or predicted over budget.

        The quick run's scales always run, so that the quick run fills every table."""
        if contender in self.stopped:
            return True
        if scale <= QUICK_SCALES[-1]:
            return False
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
        self.results.autogenerate[scale] = Timed(
            command.seconds, command.max_rss_mb, command.cpu_seconds
        )
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
    bare = bare_project(args.workdir / "bare-alembic")
    try:
        with ExitStack() as relays:
            proxies: dict[float, Proxy] = {}
            if args.rtt_list:
                results.rtts_ms = list(args.rtt_list)
                results.latency_jobs = args.latency_jobs
                # The relay with no delay first: its own cost is taken off the others' delay.
                own_cost = 0.0
                for rtt in (0.0, *args.rtt_list):
                    relay = relays.enter_context(proxy(*server.address(), rtt, own_cost))
                    proxies[rtt] = relay
                    check = network.check(server, relay)
                    results.proxy.append(check)
                    own_cost = own_cost or max(check.added_low_ms, 0.0)
                    _log(
                        f"relay at {rtt:g} ms (holding {relay.delay_ms:.3f} ms): SELECT 1 "
                        f"{check.direct_ms:.3f} ms direct, {check.proxied_ms:.3f} ms through "
                        f"it (+{check.added_ms:.3f} ms)"
                    )
            bench = Bench(args, server, results, bare, proxies)
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
