"""The SQL of ``alembic upgrade --sql``, written so that ``| head`` ends it quietly."""

from __future__ import annotations

import os
import signal
from typing import Any, NoReturn, TextIO

#: The exit status of a process that SIGPIPE ended, as a shell reports it.
BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE


class PipeOutput:
    """A text stream that ends the run, without a word, once its reader has gone away.

    Python turns SIGPIPE into ``BrokenPipeError``; Unix tools simply stop. So does this:
    later writes (and the flush at exit) go to the null device, so that Python reports no
    second error, and the run exits with the status SIGPIPE would have given it.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._reader_gone()

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)

    def _reader_gone(self) -> NoReturn:
        try:
            descriptor = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            descriptor = None
        if descriptor is not None:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, descriptor)
            os.close(null)
        raise SystemExit(BROKEN_PIPE_STATUS)
