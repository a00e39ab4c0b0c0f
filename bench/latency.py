"""A network round trip on loopback: a TCP relay that delays each direction by a fixed time.

``python -m bench.latency --rtt-ms 2 [--target 127.0.0.1:5432] [--port 0]`` listens on
127.0.0.1 and relays every connection to the target, each byte arriving ``rtt / 2`` after it
was received, in both directions: a client talking to the server through it sees every
round trip take ``rtt`` longer, as over a network, while bandwidth stays that of loopback.
It prints ``listening on 127.0.0.1:PORT`` once it accepts connections, and stops when its
standard input closes (so it never outlives the benchmark that started it) or on SIGTERM.

Why it is built as it is:

* Bytes go on in the order they came, per direction: each direction keeps a queue of
  (due time, bytes) and one timer for its head, so a chunk never overtakes an earlier one
  and the delay does not limit throughput (many chunks may be in flight).
* The event loop waits with ``select()``: ``epoll_wait`` and ``poll`` take milliseconds, so
  asyncio's default loop would round every sub-millisecond delay up to 1 ms. ``select()``
  takes microseconds. It limits the relay to file descriptors below 1024 (about 500
  connections at once), far above what the benchmark opens.
* The process asks the kernel for a 1 microsecond timer slack (the default, 50 us, would
  make each timer up to that much late).
* With no delay, bytes are written as soon as they are read (no timer at all), which is
  what the benchmark's 0 ms measurement of the relay's own cost measures.
* Flow control: when one side's send buffer fills up, the relay stops reading the other
  side until it drains.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import ctypes
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

#: The end of a stream, queued after the bytes that came before it (a read never gives b"").
_END = b""
_PR_SET_TIMERSLACK = 29
ROOT = Path(__file__).resolve().parent.parent


class _Pacer:
    """When a chunk that arrived now is due, the timers' own lateness taken into account.

    A timer fires some tens of microseconds after its time (the wake-up, the loop's own
    work). That lateness, averaged over the recent timers of the process, is taken off the
    delay, so that a chunk goes out ``delay`` after it arrived rather than ``delay`` plus
    the lateness.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, delay: float) -> None:
        self.loop = loop
        self.delay = delay
        self.lead = 0.0

    def due(self) -> float:
        return self.loop.time() + max(self.delay - self.lead, 0.0)

    def fired(self, scheduled: float) -> None:
        late = self.loop.time() - scheduled
        self.lead += (min(late, self.delay) - self.lead) / 16


class _Outbound:
    """What one connection's transport is to send, each chunk ``delay`` after it arrived."""

    def __init__(self, pacer: _Pacer) -> None:
        self.pacer = pacer
        self.loop = pacer.loop
        self.delay = pacer.delay
        self.transport: asyncio.Transport | None = None
        self.pending: collections.deque[tuple[float, bytes]] = collections.deque()
        self.timer: asyncio.TimerHandle | None = None

    def attach(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        if self.pending:
            self._schedule()

    def send(self, data: bytes) -> None:
        """Queue ``data`` (``_END``: close once everything before it is sent)."""
        if self.delay == 0 and self.transport is not None and not self.pending:
            self._write(self.transport, data)
            return
        self.pending.append((self.pacer.due(), data))
        if self.timer is None and self.transport is not None:
            self._schedule()

    def _schedule(self) -> None:
        self.timer = self.loop.call_at(self.pending[0][0], self._flush)

    def _flush(self) -> None:
        self.timer = None
        transport = self.transport
        assert transport is not None
        # The head is due (the timer was set for it); so is whatever arrived with it.
        scheduled, data = self.pending.popleft()
        self.pacer.fired(scheduled)
        self._write(transport, data)
        now = self.loop.time()
        while self.pending and self.pending[0][0] <= now:
            self._write(transport, self.pending.popleft()[1])
        if self.pending:
            self._schedule()

    def _write(self, transport: asyncio.Transport, data: bytes) -> None:
        if not data:
            self.pending.clear()
            transport.close()
        elif not transport.is_closing():
            transport.write(data)

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.pending.clear()


class _End(asyncio.Protocol):
    """One end of a relayed connection (the client's or the server's)."""

    def __init__(self, outbound: _Outbound) -> None:
        #: What this end's transport sends: the other end's bytes, delayed.
        self.outbound = outbound
        self.peer: _End | None = None
        self.transport: asyncio.Transport | None = None
        self.connecting: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.outbound.attach(transport)

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None
        self.peer.outbound.send(data)

    def eof_received(self) -> bool | None:
        return None  # close this end; connection_lost passes the end on

    def connection_lost(self, exc: Exception | None) -> None:
        self.outbound.cancel()
        if self.peer is not None:
            self.peer.outbound.send(_END)

    # This end's send buffer is full: stop reading what fills it, until it drains.
    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


@dataclass
class Relay:
    """Where connections are relayed, and the delay of each direction (seconds)."""

    host: str
    port: int
    delay: float
    _pacer: _Pacer | None = None

    def pacer(self) -> _Pacer:
        """One for the whole relay: every connection's timers feed the same average."""
        if self._pacer is None:
            self._pacer = _Pacer(asyncio.get_running_loop(), self.delay)
        return self._pacer

    def accept(self) -> _End:
        """The client's end of a new connection; the server's end connects in the background."""
        pacer = self.pacer()
        client = _End(_Outbound(pacer))
        server = _End(_Outbound(pacer))
        client.peer, server.peer = server, client
        # Held by the client's end, so that the task lives until it is done.
        client.connecting = pacer.loop.create_task(self._connect(pacer.loop, client, server))
        return client

    async def _connect(self, loop: asyncio.AbstractEventLoop, client: _End, server: _End) -> None:
        try:
            await loop.create_connection(lambda: server, self.host, self.port)
        except OSError as error:
            print(f"relay: cannot connect to {self.host}:{self.port}: {error}", file=sys.stderr)
            if client.transport is not None:
                client.transport.close()


def _fine_timers() -> None:
    """Ask the kernel to wake this process within 1 us of a timer (Linux; else a no-op)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1000, 0, 0, 0)


async def serve(relay: Relay, port: int) -> None:
    """Relay connections to ``relay`` from 127.0.0.1:``port`` until stdin closes."""
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(relay.accept, "127.0.0.1", port)
    bound = listener.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound}", flush=True)
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    # Standard input closing (the benchmark ended, however it ended) stops the relay.
    stdin = sys.stdin.fileno()

    def read_stdin() -> None:
        if not os.read(stdin, 4096) and not stopped.done():
            stopped.set_result(None)

    loop.add_reader(stdin, read_stdin)
    try:
        await stopped
    finally:
        loop.remove_reader(stdin)
        listener.close()


def run(relay: Relay, port: int) -> None:
    _fine_timers()
    with suppress(OSError):
        os.nice(-10)
    loop = asyncio.SelectorEventLoop(selectors.SelectSelector())
    try:
        loop.run_until_complete(serve(relay, port))
    finally:
        loop.close()


@dataclass(frozen=True)
class Proxy:
    """A running relay: where to connect, the round trip asked for and the delay it holds
    (the round trip less the relay's own cost, when that was given)."""

    host: str
    port: int
    rtt_ms: float
    delay_ms: float


@contextmanager
def proxy(
    target_host: str, target_port: int, rtt_ms: float, own_cost_ms: float = 0.0
) -> Iterator[Proxy]:
    """A relay to ``target`` adding ``rtt_ms`` to every round trip, in its own process.

    ``own_cost_ms``, what the relay adds with no delay at all (reading, writing, waking up:
    measured through a relay of 0 ms), is taken off the delay it holds, so that the round
    trip grows by ``rtt_ms`` in all. Its own process, so that its work does not compete for
    the benchmark's interpreter lock (a client thread waiting for the GIL would look like
    network latency).
    """
    delay_ms = max(rtt_ms - own_cost_ms, 0.0) if rtt_ms > 0 else 0.0
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.latency",
            "--rtt-ms",
            str(delay_ms),
            "--target",
            f"{target_host}:{target_port}",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the latency relay did not start: {line!r}")
        host, port = line.removeprefix("listening on ").rsplit(":", 1)
        yield Proxy(host, int(port), rtt_ms, delay_ms)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--rtt-ms", type=float, required=True, help="round trip to add, ms (each way: half)"
    )
    parser.add_argument(
        "--target", default="127.0.0.1:5432", help="HOST:PORT to relay to (127.0.0.1:5432)"
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    args = parser.parse_args(argv)
    if args.rtt_ms < 0:
        parser.error("--rtt-ms must not be negative")
    host, _, port = args.target.rpartition(":")
    run(Relay(host or "127.0.0.1", int(port), args.rtt_ms / 2000), args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
