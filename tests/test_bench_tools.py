"""The benchmark's own tools: the latency relay, the import-time reader, the saved report.

Nothing here measures time: the relay is checked for what it delivers (every byte, in
order, on every connection, and the end of a stream), its delay by the times it schedules.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import threading
from collections.abc import Iterator

import pytest

from bench.latency import Proxy, _Outbound, _Pacer, proxy
from bench.report import markdown
from bench.results_model import Cell, HistoryResult, NoopResult, ProxyCheck, Results, Timed
from bench.startup import parse_importtime


class _EchoServer:
    """Sends back whatever a connection sends; closes a connection that sends ``bye``."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    @staticmethod
    def _echo(connection: socket.socket) -> None:
        with connection:
            while data := connection.recv(65536):
                if data == b"bye":
                    return
                connection.sendall(data)


@pytest.fixture(scope="module")
def echo() -> Iterator[_EchoServer]:
    server = _EchoServer()
    yield server
    server.listener.close()


def _round_trip_bytes(relay: Proxy, payload: bytes, seed: int) -> bytes:
    """Send ``payload`` in chunks of random sizes through ``relay``; what comes back."""
    rng = random.Random(seed)
    received = bytearray()
    with socket.create_connection((relay.host, relay.port)) as client:
        sender = threading.Thread(target=_send_chunks, args=(client, payload, rng))
        sender.start()
        while len(received) < len(payload):
            data = client.recv(65536)
            if not data:
                break
            received += data
        sender.join()
    return bytes(received)


def _send_chunks(client: socket.socket, payload: bytes, rng: random.Random) -> None:
    position = 0
    while position < len(payload):
        size = rng.choice((1, 7, 100, 1500, 65536, 300_000))
        client.sendall(payload[position : position + size])
        position += size


@pytest.mark.parametrize("rtt_ms", [0.0, 2.0])
def test_relay_delivers_every_byte_in_order_on_many_connections(
    echo: _EchoServer, rtt_ms: float
) -> None:
    with proxy("127.0.0.1", echo.port, rtt_ms) as relay:
        payloads = [random.Random(i).randbytes(200_000 + 37 * i) for i in range(16)]
        results: dict[int, bytes] = {}
        threads = [
            threading.Thread(
                target=lambda i=i: results.__setitem__(i, _round_trip_bytes(relay, payloads[i], i))
            )
            for i in range(len(payloads))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [results[i] == payloads[i] for i in range(len(payloads))] == [True] * len(payloads)


def test_relay_passes_the_end_of_a_stream_on(echo: _EchoServer) -> None:
    with (
        proxy("127.0.0.1", echo.port, 1.0) as relay,
        socket.create_connection((relay.host, relay.port)) as client,
    ):
        client.sendall(b"hello")
        assert client.recv(100) == b"hello"
        client.sendall(b"bye")  # the server closes: so does the relay, towards us
        client.settimeout(30)
        assert client.recv(100) == b""


def test_relay_closes_a_connection_it_cannot_pass_on() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        closed_port = placeholder.getsockname()[1]
    with (
        proxy("127.0.0.1", closed_port, 0.0) as relay,
        socket.create_connection((relay.host, relay.port)) as client,
    ):
        client.settimeout(30)
        with contextlib.suppress(ConnectionResetError):  # closed, or reset: either way, ended
            assert client.recv(100) == b""


def test_relay_stops_with_the_benchmark(echo: _EchoServer) -> None:
    with proxy("127.0.0.1", echo.port, 0.5) as relay:
        address = (relay.host, relay.port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address).close()


class _Transport:
    """Records what is written to it, in order."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def test_a_chunk_is_due_one_delay_after_it_arrived_and_none_overtakes_another() -> None:
    loop = asyncio.new_event_loop()
    try:
        outbound = _Outbound(_Pacer(loop, 0.25))
        transport = _Transport()
        outbound.attach(transport)  # type: ignore[arg-type]
        before = loop.time()
        for chunk in (b"a", b"b", b"c"):
            outbound.send(chunk)
        after = loop.time()
        outbound.send(b"")  # the end: closes after the chunks before it
        dues = [due for due, _ in outbound.pending]
        assert transport.written == []
        assert dues == sorted(dues)
        assert before + 0.25 <= dues[0] <= after + 0.25
        assert outbound.timer is not None and outbound.timer.when() == dues[0]
        loop.run_until_complete(asyncio.sleep(0.3))
        assert transport.written == [b"a", b"b", b"c"]
        assert transport.closed
    finally:
        loop.close()


def test_with_no_delay_a_chunk_is_written_at_once() -> None:
    loop = asyncio.new_event_loop()
    try:
        outbound = _Outbound(_Pacer(loop, 0.0))
        transport = _Transport()
        outbound.send(b"early")  # before the connection is made: waits for it
        outbound.attach(transport)  # type: ignore[arg-type]
        loop.run_until_complete(asyncio.sleep(0))
        outbound.send(b"later")
        assert transport.written == [b"early", b"later"]
        assert outbound.timer is None
    finally:
        loop.close()


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |     zlib
import time:       200 |        300 |   gzip
import time:        50 |         50 |   shutil
import time:        10 |        360 | tarfile
import time:         5 |          5 | lonely
"""


def test_importtime_output_gives_each_module_its_importer() -> None:
    modules = parse_importtime(IMPORTTIME)
    assert {name: m.parent for name, m in modules.items()} == {
        "zlib": "gzip",
        "gzip": "tarfile",
        "shutil": "tarfile",
        "tarfile": None,
        "lonely": None,
    }
    assert (modules["gzip"].self_us, modules["gzip"].cumulative_us) == (200, 300)


def _results() -> Results:
    results = Results(
        machine="test machine", seed=0, scales=[1, 10], reps={1: 1, 10: 1}, budget=120
    )
    for scale, rows in ((1, 2741), (10, 27410)):
        for contender, seconds in (("engine", 0.05), ("upgrade", 0.9), ("per_row", 0.5)):
            results.cells.append(Cell(contender, scale, rows, [seconds * scale], [70.0]))
            for rtt in (0.5, 2.0):
                results.cells.append(
                    Cell(contender, scale, rows, [seconds * scale * (1 + rtt)], rtt_ms=rtt)
                )
        results.commands[scale] = {"show": Timed(1.5, 80), "check": Timed(1.1, 75)}
        results.noop.append(
            NoopResult(scale, [0.7], [0.6], {"inserted": 0, "updated": 0, "deleted": 0}, 1, [0.4])
        )
    results.cells.append(Cell("per_row", 1, 2741, [0.6], rtt_ms=0.0))
    results.proxy = [
        ProxyCheck(rtt, [0.03, 0.03], [0.1 + rtt, 0.1 + rtt], max(rtt - 0.07, 0))
        for rtt in (0.0, 0.5, 2.0)
    ]
    results.rtts_ms = [0.5, 2.0]
    results.latency_jobs = 5
    results.autogenerate[10] = Timed(2.0, 90.0, 1.5)
    for revisions, cpu in ((1, 1.0), (10, 1.2), (100, 2.0)):
        results.history.append(
            HistoryResult(
                10,
                revisions,
                cold=[2 * cpu],
                cold_cpu=[cpu],
                warm=[cpu],
                warm_cpu=[cpu / 2],
                warm_rss_mb=100.0,
                show=[cpu],
                show_cpu=[cpu],
                replay_cold=[cpu / 4],
                replay_warm=[cpu / 8],
            )
        )
    return results


def test_the_report_is_the_same_from_the_saved_results() -> None:
    results = _results()
    saved = Results.from_json(json.loads(json.dumps(results.to_json())))
    assert markdown(saved) == markdown(results)


def test_the_report_gives_the_network_ratios_and_the_start_up() -> None:
    report = markdown(_results())
    # per-row at 2 ms, x10: 15 s; engine at 2 ms, x10: 1.5 s; upgrade 27 s.
    assert "| per-row SELECT+INSERT | +2 ms | 1.50 s (10.0x) | 15.00 s (10.0x) |" in report
    assert "10.0x `apply_changes`, 0.6x `alembic upgrade heads`" in report
    assert (
        "| 0 ms | 0.000 ms | 0.030 ms | 0.100 ms (0.100 ms) | +0.070 ms | "
        "600 ms (direct: 500 ms, +20 %) |"
    ) in report
    assert "| 0.5 ms | 0.430 ms | 0.030 ms | 0.600 ms (0.600 ms) | +0.570 ms | 750 ms |" in report
    assert "| x1 | 700 ms | 600 ms | 1.17 | 400 ms | 1.50 | 0/0/0 | 1 |" in report
    assert "`seeds show seeds@head` (the import revision, every row), on the upgraded" in report


def test_the_report_gives_the_history_growth_and_the_cpu_time_of_commands() -> None:
    report = markdown(_results())
    assert "| x10 | 1 | 2.00 s / 1.00 s (1.00x) | 1.00 s / 500 ms (1.00x) | 100 MB | " in report
    # show's growth is measured from 10 revisions: with 1 it renders the import.
    assert (
        "| x10 | 100 | 4.00 s / 2.00 s (2.00x) | 2.00 s / 1.00 s (2.00x) | 100 MB | "
        "2.00 s / 2.00 s (1.67x) | 500 ms (2.00x) | 250 ms (2.00x) | 1 |"
    ) in report
    assert "| 2.00 s (1.50 s CPU) / 90 MB |" in report
    assert "| peak RSS of `seeds revision --autogenerate` at x1000 | < 400 MB | 90 MB" in report
