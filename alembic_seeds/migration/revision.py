"""What a data revision script calls: ``DataRevision(...).upgrade()`` / ``.downgrade()``.

A data revision holds its change set inline (small) or in a sidecar file next to it
(large). Upgrading applies it; downgrading applies its inverse (see
``alembic_seeds.migration.revision_run``).

Alembic loads every revision file for every command, ``alembic current`` and ``alembic
history`` included, so this module is what each of them pays: it imports nothing beyond
what Alembic has loaded already. The change set is read, and the apply engine and the
database driver are imported, only when a revision is upgraded or downgraded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alembic_seeds.changes.changeset import ChangeSet


class DataRevision:
    """The change set of one data revision, read when first needed."""

    def __init__(
        self,
        revision: str,
        module_file: str,
        *,
        changes: Mapping[str, Any] | None = None,
        sidecar: str | None = None,
    ) -> None:
        if (changes is None) == (sidecar is None):
            raise ValueError(f"data revision {revision}: give either changes or a sidecar")
        self.revision = revision
        self.module_file = Path(module_file)
        self._document = changes
        self.sidecar = self.module_file.with_name(sidecar) if sidecar else None
        self._changes: ChangeSet | None = None

    def change_set(self) -> ChangeSet:
        # Imported here: see the module's docstring.
        from alembic_seeds.changes.changeset import from_document  # noqa: PLC0415
        from alembic_seeds.changes.sidecar import read_sidecar  # noqa: PLC0415

        if self._changes is None:
            if self.sidecar is not None:
                self._changes = read_sidecar(self.sidecar)
            else:
                assert self._document is not None
                self._changes = from_document(self._document)
        return self._changes

    def checksum(self) -> str:
        """The checksum of the change set, as the applied-revision log records it: a
        sidecar's is read off its lines, without indexing or parsing the file."""
        if self._changes is None and self.sidecar is not None:
            from alembic_seeds.changes.sidecar import sidecar_checksum  # noqa: PLC0415

            return sidecar_checksum(self.sidecar)
        return self.change_set().checksum()

    def upgrade(self) -> None:
        self._run(self.change_set(), "upgrade")

    def downgrade(self) -> None:
        self._run(self.change_set().inverse(), "downgrade")

    def _run(self, changes: ChangeSet, direction: str) -> None:
        from alembic_seeds.migration.revision_run import run_revision  # noqa: PLC0415

        run_revision(self.revision, changes, direction=direction, checksum=self.checksum())
