"""Which master key opens which secret: the store's one copy of that logic.

A store holds one master key (:class:`~.secrets.MasterKey`). When another
process re-wraps the secrets (``sigv4kit keys rewrap``), rows name a key
this process does not hold; if the key came from a file, the file (and,
during a rewrap of the default key file, its pending ``<file>.new``) is
re-read, and a key matching the envelope replaces ours (:meth:`key_for`).
SQLite's default key file beside the database is owned by the store: a
rewrap writes the new key to ``<db>.key.new`` first and renames it after the
commit; a rename interrupted by a crash is finished on the next open.

Imports: SQLAlchemy, :mod:`.schema`, :mod:`.secrets`, the store errors.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from .cache import KeyCache
from .errors import MasterKeyError, SecretDecryptionError
from .schema import ENVELOPE, access_keys, mfa_devices
from .secrets import MasterKey, create_key_file, envelope_key_id

_K = access_keys.c

__all__ = ["SEALED", "MasterKeyAdmin", "MasterKeys", "foreign_envelopes"]

#: Every sealed column: (table, the id sealed in as associated data, the envelope).
#: A rewrap re-seals them all in one transaction.
SEALED: tuple[tuple[sa.Table, str, str], ...] = (
    (access_keys, "access_key_id", "secret_envelope"),
    (mfa_devices, "serial_number", "seed_envelope"),
)

logger = logging.getLogger("sigv4kit.middleware.store")

T = TypeVar("T")


class MasterKeys:
    """The master key in use, the file it came from, and the rules for following a rewrap."""

    def __init__(
        self, key: MasterKey, *, key_file: Path | None = None, owned_file: Path | None = None
    ) -> None:
        self.current = key
        #: Re-read when rows name another key (SIGV4KIT_MASTER_KEY_FILE or the default file).
        self.key_file = key_file if owned_file is None else owned_file
        #: The default key file beside an SQLite database (rewrap replaces it).
        self.owned_file = owned_file

    def key_for(self, envelope: bytes) -> MasterKey:
        """The key for an envelope: ours, or the key file's (or its ``.new``) when it matches.

        Anything else is left to :meth:`MasterKey.open` to refuse precisely.
        """
        wanted = envelope_key_id(envelope)
        current = self.current
        if wanted == current.key_id or self.key_file is None:
            return current
        for path in (self.key_file, Path(f"{self.key_file}.new")):
            try:
                candidate = MasterKey.from_file(path)
            except MasterKeyError:
                continue
            if candidate.key_id == wanted:
                logger.warning(
                    "the stored secrets were re-wrapped under master key %s: now using it", wanted
                )
                self.current = MasterKey(candidate.material, source=current.source)
                return self.current
        return current

    def open(self, envelope: bytes, access_key_id: str) -> str:
        """The secret in ``envelope``, with whichever key it names (see :meth:`key_for`)."""
        return self.key_for(envelope).open(envelope, access_key_id=access_key_id)

    def sealing_key(self, foreign_envelope: bytes | None) -> MasterKey:
        """The key to seal new secrets with, given one stored envelope under another key.

        One database never mixes master keys: follow a rewrap by another
        process, or refuse.
        """
        if foreign_envelope is None:
            return self.current
        key = self.key_for(foreign_envelope)
        wanted = envelope_key_id(foreign_envelope)
        if key.key_id != wanted:
            raise SecretDecryptionError(
                f"the key database was re-wrapped under master key {wanted}, but this process "
                f"holds {key.key_id} ({key.source}); restart it with the new master key"
            )
        return key

    def check(self, foreign: dict[str, tuple[int, bytes]], where: str) -> None:
        """Refuse a database whose secrets are sealed under keys we cannot follow.

        ``foreign`` maps each stored master key id other than ours to
        ``(count, one envelope)``.
        """
        if not foreign:
            return
        if self._finish_interrupted_rewrap(set(foreign)):
            return
        if len(foreign) == 1:
            ((_n, envelope),) = foreign.values()
            if self.key_for(envelope).key_id == envelope_key_id(envelope):
                return
        described = ", ".join(f"{n} under {kid}" for kid, (n, _e) in sorted(foreign.items()))
        raise SecretDecryptionError(
            f"{where} holds secrets sealed under another master key ({described}); the "
            f"configured master key ({self.current.source}) is {self.current.key_id}. "
            "Configure the right SIGV4KIT_MASTER_KEY or SIGV4KIT_MASTER_KEY_FILE."
        )

    def _finish_interrupted_rewrap(self, foreign: set[str]) -> bool:
        # A rewrap of a store keyed by its default key file commits the
        # database, then renames <db>.key.new over <db>.key. A crash between
        # the two leaves the new key in <db>.key.new: finish the rename.
        if self.owned_file is None:
            return False
        pending = Path(f"{self.owned_file}.new")
        if not pending.exists():
            return False
        candidate = MasterKey.from_file(pending)
        if foreign != {candidate.key_id}:
            return False
        os.replace(pending, self.owned_file)
        self.current = MasterKey(
            candidate.material, source=f"master key file {str(self.owned_file)!r}"
        )
        logger.warning(
            "finished an interrupted rewrap: %s now holds the new master key", self.owned_file
        )
        return True

    # -- rewrap ---------------------------------------------------------------------

    def begin_rewrap(self, new_key: MasterKey) -> Path | None:
        """Before the transaction: write an owned key file's successor (``.new``)."""
        if self.owned_file is None:
            return None
        pending = Path(f"{self.owned_file}.new")
        with contextlib.suppress(FileNotFoundError):
            pending.unlink()
        create_key_file(pending, new_key)
        return pending

    @staticmethod
    def abort_rewrap(pending: Path | None) -> None:
        """The transaction failed: forget the successor."""
        if pending is not None:
            with contextlib.suppress(OSError):
                pending.unlink()

    def finish_rewrap(self, new_key: MasterKey, pending: Path | None) -> None:
        """After the commit: the new key is ours (and the owned file's)."""
        if pending is not None and self.owned_file is not None:
            os.replace(pending, self.owned_file)
            self.current = MasterKey(
                new_key.material, source=f"master key file {str(self.owned_file)!r}"
            )
        else:
            self.current = new_key


def foreign_envelopes(conn: sa.Connection, own_key_id: str) -> dict[str, tuple[int, bytes]]:
    """``{master key id: (secrets sealed under it, one of them)}`` for keys other than ours.

    Synchronous (SQLite runs it while opening; PostgreSQL through ``run_sync``).
    """
    counts = conn.execute(
        sa.select(_K.master_key_id, sa.func.count())
        .where(_K.master_key_id != own_key_id)
        .group_by(_K.master_key_id)
    ).all()
    found: dict[str, tuple[int, bytes]] = {}
    for key_id, n in counts:
        envelope = conn.execute(
            sa.select(ENVELOPE).where(_K.master_key_id == key_id).limit(1)
        ).scalar_one()
        found[key_id] = (int(n), bytes(envelope))
    return found


class MasterKeyAdmin:
    """The master-key part of :class:`~.keys.KeyAdmin`: sealing, fingerprints, rewrap."""

    _cache: KeyCache
    _keys: MasterKeys

    async def _write(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        raise NotImplementedError

    async def _sealing_key(self, conn: AsyncConnection) -> MasterKey:
        foreign = (
            await conn.execute(
                sa.select(ENVELOPE).where(_K.master_key_id != self._keys.current.key_id).limit(1)
            )
        ).scalar()
        return self._keys.sealing_key(None if foreign is None else bytes(foreign))

    # -- master key -------------------------------------------------------------------

    @property
    def master_key_id(self) -> str:
        """The fingerprint of the master key in use."""
        return self._keys.current.key_id

    @property
    def master_key_source(self) -> str:
        """Where the master key in use came from (never the key)."""
        return self._keys.current.source

    @property
    def owns_key_file(self) -> bool:
        """True when the master key is the default key file beside the database."""
        return self._keys.owned_file is not None

    async def rewrap(self, new_master_key: MasterKey) -> int:
        """Re-encrypt every secret (access keys, MFA seeds) under ``new_master_key`` at once.

        Each secret is opened with the key it names (ours, or the key file's
        after a rewrap by another process), then sealed under the new key.
        Returns the number of secrets re-encrypted. When the store's key came
        from the default key file beside an SQLite database, that file is
        replaced by the new key (written first as ``<db>.key.new``, renamed
        after the commit; an interrupted rename is finished on the next
        open). Otherwise configure the new key (``SIGV4KIT_MASTER_KEY(_FILE)``)
        everywhere the store is opened; other replicas are told through the
        change notifications and follow a key file once it holds the new key.

        Raises :class:`SecretDecryptionError` (nothing changed) when a secret
        cannot be decrypted.
        """

        async def rewrap(conn: AsyncConnection) -> int:
            count = 0
            for table, id_column, envelope_column in SEALED:
                row_id, sealed = table.c[id_column], table.c[envelope_column]
                rows = await conn.execute(
                    sa.select(
                        row_id, sa.cast(sealed, sa.LargeBinary), table.c.master_key_id
                    ).with_for_update()
                )
                for kid, envelope, key_id in rows.all():
                    envelope = bytes(envelope)
                    if key_id == new_master_key.key_id:
                        new_master_key.open(envelope, access_key_id=kid)  # verify; no work
                        continue
                    secret = self._keys.open(envelope, kid)
                    await conn.execute(
                        sa.update(table)
                        .where(row_id == kid)
                        .values(
                            {
                                envelope_column: new_master_key.seal(secret, access_key_id=kid),
                                "master_key_id": new_master_key.key_id,
                            }
                        )
                    )
                    count += 1
            return count

        pending = self._keys.begin_rewrap(new_master_key)
        try:
            count = await self._write(rewrap)
        except BaseException:
            self._keys.abort_rewrap(pending)
            raise
        self._keys.finish_rewrap(new_master_key, pending)
        self._cache.clear()
        return count
