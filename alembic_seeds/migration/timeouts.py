"""The bounds of a migration run: how long it waits for the lock, for a table, for a statement."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from alembic_seeds.errors import ConfigError

NAMES = ("lock_wait", "lock_timeout", "statement_timeout")


@dataclass(frozen=True)
class Timeouts:
    """Seconds; from ``-x NAME=SECONDS`` or the environment (``SEEDS_LOCK_WAIT``, ...)."""

    #: How long to wait for another migration run to finish.
    lock_wait: float = 300.0
    #: How long one statement may wait for a row or table lock.
    lock_timeout: float = 5.0
    #: How long one statement may run (0: no limit).
    statement_timeout: float = 0.0

    @classmethod
    def from_arguments(
        cls, x_arguments: Mapping[str, str], environ: Mapping[str, str] = os.environ
    ) -> Timeouts:
        """An ``-x`` option wins over its environment variable; neither: the default."""
        values: dict[str, float] = {}
        for name in NAMES:
            variable = f"SEEDS_{name.upper()}"
            text = x_arguments.get(name, environ.get(variable))
            if text is None or text.strip() == "":
                continue
            given = f"-x {name}" if name in x_arguments else variable
            try:
                values[name] = float(text)
            except ValueError:
                raise ConfigError(f"{given}={text!r}: expected a number of seconds") from None
            if not values[name] >= 0 or values[name] == float("inf"):
                raise ConfigError(f"{given}={text!r}: expected a number of seconds, 0 or more")
        return cls(**values)
