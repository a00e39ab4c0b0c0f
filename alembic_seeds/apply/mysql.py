"""MySQL and MariaDB: staging tables filled by one multi-row INSERT (the driver's executemany),
temporary tables dropped as temporary ones (a plain DROP TABLE would commit the revision's
transaction), and key columns that must compare by their bytes checked before anything is
written. Offline SQL spells a text with a carriage return as its bytes, which the client
keeps as they are.

InnoDB checks unique and foreign keys row by row and has no deferrable constraints: the plan
parks rows around every collision (``apply.plan``); a re-key that nothing can park around is
written as one update of the key, which ON UPDATE CASCADE carries to the rows referring to
it (``Plan.rekey_blocked_deletes``); what neither resolves is refused before the first write.
Explicit keys move AUTO_INCREMENT by themselves; sequences (MariaDB's) are not moved.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect

from alembic_seeds.apply.collations import check_byte_keys
from alembic_seeds.apply.dialect import ApplyImpl, driver_executemany, unresolved
from alembic_seeds.apply.plan import Plan

#: ER_LOCK_WAIT_TIMEOUT: innodb_lock_wait_timeout (a row) or lock_wait_timeout (a table) expired.
LOCK_WAIT_TIMEOUT = 1205


class MysqlImpl(ApplyImpl):
    __dialect__ = "mysql"

    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        #: The collation of each text column of the tables being written, as the database
        #: has it (read by ``check_tables``).
        self.collations: dict[tuple[str, str], str] = {}

    def before_writes(self, plan: Plan) -> list[sa.Executable]:
        # What deferring would resolve elsewhere: a re-keyed row that other rows refer to.
        plan.rekey_blocked_deletes()
        if plan.blocked:
            raise unresolved(plan)
        return []

    def check_tables(self, connection: Connection, plan: Plan) -> None:
        self.collations = check_byte_keys(connection, plan)

    def staging_type(self, column: sa.Column[Any]) -> sa.types.TypeEngine[Any]:
        """The target column's own collation for a text: two texts of different collations
        cannot be compared ("illegal mix of collations"), and the target's decides."""
        column_type = super().staging_type(column)
        collation = self.collations.get((column.table.name, column.name))
        if collation is None or isinstance(column_type, sa.Enum):
            return column_type
        native = column_type.dialect_impl(self.dialect)
        if not isinstance(native, sa.String):
            return column_type
        collated = copy.copy(native)
        collated.collation = collation
        return collated

    def fill(self, connection: Connection, table: sa.Table, rows: Iterator[tuple[Any, ...]]) -> int:
        # PyMySQL sends an executemany of one INSERT ... VALUES as multi-row INSERTs, each as
        # large as max_allowed_packet allows.
        return driver_executemany(connection, table, rows, "%s")

    def drop_staging(self, table: sa.Table) -> sa.Executable:
        # DROP TABLE commits the transaction it runs in; DROP TEMPORARY TABLE does not.
        return sa.text(
            f"DROP TEMPORARY TABLE {self.dialect.identifier_preparer.format_table(table)}"
        )

    def text_literal(self, value: str) -> str | None:
        # The mysql/mariadb client drops a carriage return before a line break, inside a
        # quoted text too: such a text goes as its UTF-8 bytes.
        if "\r" not in value:
            return None
        return f"CONVERT(X'{value.encode('utf-8').hex()}' USING utf8mb4)"

    def is_lock_timeout(self, error: BaseException) -> bool:
        original: Any = getattr(error, "orig", error)
        arguments: tuple[Any, ...] = tuple(getattr(original, "args", ()))
        return bool(arguments) and arguments[0] == LOCK_WAIT_TIMEOUT


class MariadbImpl(MysqlImpl):
    """A ``mariadb://`` URL: the same server family, the same implementation."""

    __dialect__ = "mariadb"
