"""Virtual MFA devices in the key store: IAM's lifecycle and the sign-in check.

:class:`MFAStore` works on a key store (SQLite or PostgreSQL, written once
over SQLAlchemy Core, through the store's ``_read``/``_write``: one
transaction per call, driver failures raised as ``StoreUnavailableError``).

* Seeds are sealed like secret access keys (AES-256-GCM under the store's
  master key, :meth:`~..._crypto.MasterKey.seal`), with the device serial as
  the associated data: a sealed seed copied onto another device's row does
  not open.
* **A code is accepted once.** The accepted step is written with a
  compare-and-set (``UPDATE ... SET last_used_step = :step WHERE serial_number
  = :serial AND (last_used_step IS NULL OR last_used_step < :step)``) and the
  code counts only if that changed a row: two workers, processes or machines
  racing with one code cannot both win, on either database.
* Wrong codes are counted in the row; :attr:`MFASettings.max_failures` in a
  row lock the device for :attr:`MFASettings.lockout` (the lock is part of the
  compare-and-set, so it holds across workers too).

Imports: SQLAlchemy, the store's schema, :mod:`..entities` (IAM's errors),
:mod:`._totp`, :mod:`._qr`, :mod:`._model`, :mod:`._errors`.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ...store.schema import accounts, mfa_devices, principals
from ..entities import (
    DeleteConflict,
    EntityAlreadyExists,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from ._errors import InvalidAuthenticationCode, MFAAuthenticationFailed, MFAFailure
from ._model import MFADevice, MFASettings, MFAVerification, NewVirtualMFADevice
from ._qr import provisioning_uri, qr_png
from ._totp import base32_seed, consecutive_step, matching_step, new_seed, step_at

if TYPE_CHECKING:
    from ...store.base import SQLKeyStore

__all__ = ["MFAStore", "serial_number"]

_D, _P = mfa_devices.c, principals.c
# virtualMFADeviceName: [\w+=,.@-]+ (1-226); path: IAM's pathType (botocore iam model).
_NAME_RE = re.compile(r"[\w+=,.@-]{1,226}", re.ASCII)
_PATH_RE = re.compile(r"/|/[\x21-\x7e]{1,510}/", re.ASCII)
_SERIAL_RE = re.compile(r"[\w+=/:,.@-]{9,256}", re.ASCII)
_ACCOUNT_RE = re.compile(r"[0-9]{12}", re.ASCII)
_DEVICE_COLUMNS = (
    _D.serial_number,
    _D.account_id,
    _D.principal_id,
    _D.enabled_at,
    _D.created_at,
    _P.name,
)
_WITH_USER = mfa_devices.outerjoin(principals, _D.principal_id == _P.principal_id)
Assignment = Literal["Assigned", "Unassigned", "Any"]


def serial_number(account_id: str, name: str, path: str = "/") -> str:
    """A virtual device's serial: ``arn:aws:iam::ACCOUNT:mfa/PATH/NAME``."""
    return f"arn:aws:iam::{account_id}:mfa{path}{name}"


def _invalid(value: str, member: str, constraint: str) -> ValidationError:
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _check(value: object, regex: re.Pattern[str], member: str) -> str:
    if not isinstance(value, str) or not regex.fullmatch(value):
        raise _invalid(
            str(value), member, f"Member must satisfy regular expression pattern: {regex.pattern}"
        )
    return value


def _device(row: Any) -> MFADevice:
    return MFADevice(
        serial_number=row.serial_number,
        account_id=row.account_id,
        user_name=row.name,
        user_id=row.principal_id,
        enable_date=row.enabled_at,
        create_date=row.created_at,
    )


class MFAStore:
    """IAM's virtual MFA devices and STS's code check, on a key store.

    ```python
    store = open_store("sqlite:///iam.db")
    mfa = MFAStore(store)
    new = await mfa.create_virtual_mfa_device("000000000000", "bob-phone", now=now)
    await mfa.enable_mfa_device("000000000000", "bob", new.serial_number, code1, code2, now=now)
    verified = await mfa.verify_code(new.serial_number, "123456", principal_id=bob_id, now=now)
    ```

    Every method is one transaction (the sign-in check is a read then one
    conditional write) and raises the errors of :mod:`._errors`, or the
    store's ``StoreUnavailableError`` when the database cannot answer.
    """

    def __init__(
        self,
        store: SQLKeyStore,
        *,
        settings: MFASettings | None = None,
        random: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        self._store = store
        self._settings = settings or MFASettings()
        self._random = random

    def __repr__(self) -> str:
        return f"MFAStore({self._settings!r})"

    # -- sealing ----------------------------------------------------------------------

    async def _seal(self, conn: AsyncConnection, seed: bytes, serial: str) -> tuple[bytes, str]:
        # The store's sealing key: ours, or the one another process re-wrapped to.
        key = await self._store._sealing_key(conn)
        return key.seal(base32_seed(seed), access_key_id=serial), key.key_id

    def _open(self, envelope: bytes, serial: str) -> bytes:
        text = self._store._keys.open(bytes(envelope), serial)
        return base64.b32decode(text + "=" * (-len(text) % 8))

    # -- lookups ----------------------------------------------------------------------

    @staticmethod
    async def _user_id(conn: AsyncConnection, account_id: str, user_name: str) -> str:
        # IAM user names are unique ignoring case, and found that way.
        pid = (
            await conn.execute(
                sa.select(_P.principal_id).where(
                    _P.account_id == account_id,
                    _P.kind == "user",
                    sa.func.lower(_P.name) == user_name.lower(),
                )
            )
        ).scalar()
        if pid is None:
            raise NoSuchEntity(f"The user with name {user_name} cannot be found.")
        return str(pid)

    @staticmethod
    async def _row(conn: AsyncConnection, serial: str) -> Any:
        return (
            await conn.execute(sa.select(mfa_devices).where(_D.serial_number == serial))
        ).first()

    # -- IAM: lifecycle ---------------------------------------------------------------

    async def create_virtual_mfa_device(
        self, account_id: str, name: str, *, path: str = "/", now: datetime
    ) -> NewVirtualMFADevice:
        """``CreateVirtualMFADevice``: a new unassigned device, its seed and QR code (once).

        Raises :class:`ValidationError`, :class:`NoSuchEntity` (no such
        account), :class:`EntityAlreadyExists`.
        """
        _check(account_id, _ACCOUNT_RE, "accountId")
        _check(name, _NAME_RE, "virtualMFADeviceName")
        _check(path, _PATH_RE, "path")
        serial = serial_number(account_id, name, path)
        if len(serial) > 256:
            raise _invalid(
                serial, "serialNumber", "Member must have length less than or equal to 256"
            )
        seed = new_seed(self._random)

        async def op(conn: AsyncConnection) -> MFADevice:
            exists = sa.select(accounts.c.account_id).where(accounts.c.account_id == account_id)
            if (await conn.execute(exists)).first() is None:
                raise NoSuchEntity(f"The account {account_id} cannot be found.")
            if await self._row(conn, serial) is not None:
                raise EntityAlreadyExists(
                    "MFADevice entity at the same path and name already exists."
                )
            envelope, key_id = await self._seal(conn, seed, serial)
            await conn.execute(
                sa.insert(mfa_devices).values(
                    serial_number=serial,
                    account_id=account_id,
                    seed_envelope=envelope,
                    master_key_id=key_id,
                    created_at=now,
                )
            )
            return MFADevice(
                serial_number=serial,
                account_id=account_id,
                user_name=None,
                user_id=None,
                enable_date=None,
                create_date=now,
            )

        device = await self._store._write(op)
        secret = base32_seed(seed)
        uri = provisioning_uri(name, account_id, secret, issuer=self._settings.issuer)
        return NewVirtualMFADevice(
            device=device, base32_string_seed=secret, provisioning_uri=uri, qr_code_png=qr_png(uri)
        )

    async def enable_mfa_device(
        self,
        account_id: str,
        user_name: str,
        serial: str,
        code1: str,
        code2: str,
        *,
        now: datetime,
    ) -> MFADevice:
        """``EnableMFADevice``: assign the device to the user, given two consecutive codes.

        The drift between the device's clock and ours is learned (within
        ±5 minutes) and both codes are spent. Raises :class:`NoSuchEntity`,
        :class:`EntityAlreadyExists` (assigned already), :class:`LimitExceeded`,
        :class:`InvalidAuthenticationCode` (also while the device is locked).
        """
        _check(serial, _SERIAL_RE, "serialNumber")

        async def read(conn: AsyncConnection) -> tuple[str, Any]:
            pid = await self._user_id(conn, account_id, user_name)
            row = await self._row(conn, serial)
            if row is None or row.account_id != account_id:
                raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")
            if row.principal_id is not None:
                raise EntityAlreadyExists("MFA Device is already in use.")
            await self._check_quota(conn, pid)
            return pid, row

        pid, row = await self._store._read(read)
        step = await self._synced_step(row, code1, code2, now, drift=0)

        async def assign(conn: AsyncConnection) -> MFADevice | None:
            await self._check_quota(conn, pid)
            values = {"principal_id": pid, "enabled_at": now, "drift_steps": _drift(step, now)}
            if not await _spend(conn, serial, step, now, _D.principal_id.is_(None), **values):
                return None
            found = await conn.execute(self._select().where(_D.serial_number == serial))
            return _device(found.one())

        device = await self._store._write(assign)
        if device is None:  # raced: the codes were spent, or the device assigned, meanwhile
            await self._record_failure(serial, now)
            raise InvalidAuthenticationCode()
        return device

    async def _check_quota(self, conn: AsyncConnection, pid: str) -> None:
        limit = self._settings.max_devices_per_user
        count = await conn.execute(
            sa.select(sa.func.count()).select_from(mfa_devices).where(_D.principal_id == pid)
        )
        if count.scalar_one() >= limit:
            raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {limit}")

    async def resync_mfa_device(
        self, account_id: str, user_name: str, serial: str, code1: str, code2: str, *, now: datetime
    ) -> None:
        """``ResyncMFADevice``: relearn the device's drift from two consecutive codes.

        Raises :class:`NoSuchEntity` (not this user's device) and
        :class:`InvalidAuthenticationCode`.
        """
        _check(serial, _SERIAL_RE, "serialNumber")

        async def read(conn: AsyncConnection) -> tuple[str, Any]:
            pid = await self._user_id(conn, account_id, user_name)
            row = await self._row(conn, serial)
            if row is None or row.principal_id != pid:
                raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")
            return pid, row

        pid, row = await self._store._read(read)
        step = await self._synced_step(row, code1, code2, now, drift=row.drift_steps)

        async def resync(conn: AsyncConnection) -> bool:
            owner = _D.principal_id == pid
            return await _spend(conn, serial, step, now, owner, drift_steps=_drift(step, now))

        if not await self._store._write(resync):
            await self._record_failure(serial, now)
            raise InvalidAuthenticationCode()

    async def _synced_step(
        self, row: Any, code1: str, code2: str, now: datetime, *, drift: int
    ) -> int:
        """The step of ``code2`` if the two codes are consecutive, else a counted failure."""
        if _locked(row, now):
            raise InvalidAuthenticationCode()
        seed = self._open(row.seed_envelope, row.serial_number)
        first = consecutive_step(seed, code1, code2, now=now.timestamp(), drift=drift)
        if first is None:
            await self._record_failure(row.serial_number, now)
            raise InvalidAuthenticationCode()
        return first + 1

    async def deactivate_mfa_device(
        self, account_id: str, user_name: str, serial: str, *, now: datetime
    ) -> None:
        """``DeactivateMFADevice``: unassign it (the device remains; its spent steps stay spent).

        Raises :class:`NoSuchEntity` unless the device is the user's.
        """
        _check(serial, _SERIAL_RE, "serialNumber")

        async def op(conn: AsyncConnection) -> None:
            pid = await self._user_id(conn, account_id, user_name)
            done = await conn.execute(
                sa.update(mfa_devices)
                .where(_D.serial_number == serial, _D.principal_id == pid)
                .values(principal_id=None, enabled_at=None, drift_steps=0)
            )
            if done.rowcount != 1:
                raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")

        await self._store._write(op)

    async def delete_virtual_mfa_device(self, serial: str) -> None:
        """``DeleteVirtualMFADevice``: delete an unassigned device and its sealed seed.

        Raises :class:`NoSuchEntity` and :class:`DeleteConflict` (still assigned).
        """
        _check(serial, _SERIAL_RE, "serialNumber")

        async def op(conn: AsyncConnection) -> None:
            row = await self._row(conn, serial)
            if row is None:
                raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")
            if row.principal_id is not None:
                raise DeleteConflict(
                    "You must deactivate a user's virtual MFA device before you can delete it."
                )
            await conn.execute(sa.delete(mfa_devices).where(_D.serial_number == serial))

        await self._store._write(op)

    @staticmethod
    def _select() -> sa.Select[Any]:
        return sa.select(*_DEVICE_COLUMNS).select_from(_WITH_USER).order_by(_D.serial_number)

    async def list_mfa_devices(self, account_id: str, user_name: str) -> list[MFADevice]:
        """``ListMFADevices``: the user's enabled devices, by serial.

        Raises :class:`NoSuchEntity` when the user does not exist.
        """

        async def op(conn: AsyncConnection) -> list[MFADevice]:
            pid = await self._user_id(conn, account_id, user_name)
            rows = await conn.execute(self._select().where(_D.principal_id == pid))
            return [_device(r) for r in rows]

        return await self._store._read(op)

    async def list_virtual_mfa_devices(
        self, account_id: str, assignment_status: Assignment = "Any"
    ) -> list[MFADevice]:
        """``ListVirtualMFADevices``: the account's devices, by serial."""
        query = self._select().where(_D.account_id == account_id)
        if assignment_status == "Assigned":
            query = query.where(_D.principal_id.is_not(None))
        elif assignment_status == "Unassigned":
            query = query.where(_D.principal_id.is_(None))
        elif assignment_status != "Any":
            raise _invalid(
                str(assignment_status),
                "assignmentStatus",
                "Member must satisfy enum value set: [Unassigned, Any, Assigned]",
            )

        async def op(conn: AsyncConnection) -> list[MFADevice]:
            return [_device(r) for r in await conn.execute(query)]

        return await self._store._read(op)

    # -- STS: the sign-in check -------------------------------------------------------

    async def verify_code(
        self, serial: str, code: str, *, principal_id: str, now: datetime
    ) -> MFAVerification:
        """Accept ``code`` once for the device ``serial`` of the caller ``principal_id``.

        What ``GetSessionToken`` and ``AssumeRole`` do with ``SerialNumber``
        and ``TokenCode``. The code must be the device's within ±1 step (after
        its learned drift) and later than every code accepted before.

        Raises :class:`MFAAuthenticationFailed` (``AccessDenied``; its
        ``reason`` says why: unknown device, invalid, replayed, locked).
        """
        if not isinstance(serial, str) or not _SERIAL_RE.fullmatch(serial):
            raise MFAAuthenticationFailed(MFAFailure.UNKNOWN_DEVICE)

        async def read(conn: AsyncConnection) -> Any:
            return await self._row(conn, serial)

        row = await self._store._read(read)
        if row is None or row.enabled_at is None or row.principal_id != principal_id:
            raise MFAAuthenticationFailed(MFAFailure.UNKNOWN_DEVICE)
        if _locked(row, now):
            raise MFAAuthenticationFailed(MFAFailure.LOCKED)
        seed = self._open(row.seed_envelope, serial)
        step = matching_step(seed, code, now=now.timestamp(), drift=row.drift_steps)
        if step is None:
            await self._record_failure(serial, now)
            raise MFAAuthenticationFailed(MFAFailure.INVALID)

        async def spend(conn: AsyncConnection) -> bool:
            mine = (_D.principal_id == principal_id, _D.enabled_at.is_not(None))
            return await _spend(conn, serial, step, now, *mine)

        if not await self._store._write(spend):
            await self._record_failure(serial, now)
            raise MFAAuthenticationFailed(MFAFailure.REPLAYED)
        return MFAVerification(serial_number=serial, step=step, authenticated_at=now)

    async def _record_failure(self, serial: str, now: datetime) -> None:
        limit, lockout = self._settings.max_failures, self._settings.lockout
        reached = _D.failed_attempts + 1 >= limit

        async def op(conn: AsyncConnection) -> None:
            # One statement: concurrent failures each count, and the one that
            # reaches the limit sets the lock and starts a new count.
            await conn.execute(
                sa.update(mfa_devices)
                .where(_D.serial_number == serial)
                .values(
                    failed_attempts=sa.case((reached, 0), else_=_D.failed_attempts + 1),
                    locked_until=sa.case((reached, now + lockout), else_=_D.locked_until),
                )
            )

        await self._store._write(op)


def _locked(row: Any, now: datetime) -> bool:
    until = row.locked_until
    return until is not None and until.astimezone(UTC) > now


def _drift(step: int, now: datetime) -> int:
    return step - step_at(now.timestamp())


async def _spend(
    conn: AsyncConnection,
    serial: str,
    step: int,
    now: datetime,
    *conditions: sa.ColumnElement[bool],
    **values: Any,
) -> bool:
    """The compare-and-set: mark ``step`` (and all before it) used, if nothing later was.

    Also refused while the device is locked, and unless ``conditions`` hold;
    ``values`` are written with it. True when this call changed the row.
    """
    query = sa.update(mfa_devices).where(
        _D.serial_number == serial,
        sa.or_(_D.last_used_step.is_(None), _D.last_used_step < step),
        sa.or_(_D.locked_until.is_(None), _D.locked_until <= now),
        *conditions,
    )
    done = await conn.execute(query.values(last_used_step=step, failed_attempts=0, **values))
    return bool(done.rowcount == 1)
