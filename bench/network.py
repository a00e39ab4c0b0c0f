"""The contenders over a network: every connection through the latency relay.

On loopback a round trip costs some tens of microseconds, which hides what made the original
per-row seed slow: one round trip per row to a database across a network. Here the same
contenders connect through ``bench/latency.py``, which adds a fixed round trip (0.5 ms, as
between hosts of one data centre, and 2 ms, as between zones), and the relay itself is
checked first: ``SELECT 1`` round trips straight to the server and through it.

The per-row contenders spend most of their time waiting for the relay, so several of them
run at once, each in its own process and database, which is what keeps the quick run short
(how they share the processes: ``run_jobs``); ``--latency-jobs 1`` runs them one after the
other.
The engine and the whole upgrade command, which do work the whole time, always run alone.
"""

from __future__ import annotations

import functools
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass

import psycopg

from alembic_seeds.changes.changeset import Dataset
from bench.contenders import IN_PROCESS, count_rows, per_row
from bench.db import Server
from bench.generate import generate, row_count
from bench.latency import Proxy
from bench.results_model import ProxyCheck

#: The round trips (ms) every contender is measured through, besides the direct runs.
RTTS_MS = (0.5, 2.0)
#: The contenders that make one round trip per row, heaviest first (they start first).
PER_ROW = ("orm", "per_row_autocommit", "per_row")
#: ``SELECT 1`` round trips per check of the relay.
SAMPLES = 500


def round_trips(conninfo: str, samples: int = SAMPLES) -> list[float]:
    """Milliseconds of each of ``samples`` ``SELECT 1`` round trips on one connection."""
    times = []
    with psycopg.connect(conninfo, autocommit=True) as connection:
        for _ in range(10):  # the first statements of a connection cost more
            connection.execute("SELECT 1").fetchone()
        for _ in range(samples):
            started = time.perf_counter()
            connection.execute("SELECT 1").fetchone()
            times.append((time.perf_counter() - started) * 1000)
    return times


def check(server: Server, proxy: Proxy) -> ProxyCheck:
    """What the relay really adds to a round trip: ``SELECT 1`` straight and through it."""
    direct = round_trips(server.conninfo())
    proxied = round_trips(server.via(proxy.host, proxy.port).conninfo())
    return ProxyCheck(proxy.rtt_ms, direct, proxied, proxy.delay_ms)


def overhead(server: Server, proxy: Proxy, database: str, dataset: Dataset) -> float:
    """The per-row contender through ``proxy`` (meant for the 0 ms one): its seconds."""
    server.with_schema(database)
    server.checkpoint()
    try:
        seconds = per_row(server.via(proxy.host, proxy.port), database, dataset)
        _check_loaded(server, database, row_count(dataset), "per_row through the relay")
        return seconds
    finally:
        server.drop(database)


@dataclass(frozen=True)
class Job:
    """One run of a per-row contender, through a relay, into its own database."""

    contender: str
    rtt_ms: float
    #: The relay's URL (``Server.via``): the contender connects there.
    url: str
    database: str
    scale: int
    seed: int
    #: Rows the database must hold after the run.
    rows: int


@functools.cache
def _dataset(scale: int, seed: int) -> Dataset:
    return generate(scale, seed)


def run_job(job: Job) -> float:
    """A job in a worker process: the dataset is generated there (deterministic)."""
    return IN_PROCESS[job.contender](Server(job.url), job.database, _dataset(job.scale, job.seed))


def run_jobs(
    server: Server, jobs: list[Job], *, workers: int, log: Callable[[str], None]
) -> dict[Job, float]:
    """Each job's seconds, ``workers`` at once at most, taken in the order given (the
    longest first).

    The jobs at the longest round trip wait nearly all the time; for the others the work on
    the client and the server weighs more, and they run one at a time (beside the waiting
    ones), so that no two of them compete for the CPU. Every database is made (holding the
    schema) before the first job starts and checked to hold every row after its job ended.
    """
    longest = max(job.rtt_ms for job in jobs)
    working_limit = 1
    queue = list(jobs)
    for job in jobs:
        server.with_schema(job.database)
    server.checkpoint()
    seconds: dict[Job, float] = {}
    context = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            running: dict[Future[float], Job] = {}
            while queue or running:
                working = sum(job.rtt_ms != longest for job in running.values())
                for job in list(queue):
                    if len(running) == workers:
                        break
                    if job.rtt_ms != longest and working >= working_limit:
                        continue
                    queue.remove(job)
                    running[pool.submit(run_job, job)] = job
                    working += job.rtt_ms != longest
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    job = running.pop(future)
                    seconds[job] = future.result()
                    log(f"x{job.scale}: {job.contender} at {job.rtt_ms:g} ms: {seconds[job]:.2f} s")
        for job in jobs:
            what = f"{job.contender} at {job.rtt_ms:g} ms, x{job.scale}"
            _check_loaded(server, job.database, job.rows, what)
    finally:
        for job in jobs:
            server.drop(job.database)
    return seconds


def _check_loaded(server: Server, database: str, expected: int, what: str) -> None:
    loaded = count_rows(server, database)
    if loaded != expected:
        raise RuntimeError(f"{what}: {loaded} rows, expected {expected}")
