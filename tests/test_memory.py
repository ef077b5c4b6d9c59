"""MemoryKeyStore satisfies the AccessKeyStore protocol."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sigv4kit.middleware import AccessKeyStore, MemoryKeyStore

from sigv4kit import KeyRecord

RECORD = KeyRecord(access_key_id="AKIAEXAMPLE", secret_access_key="s3cr3t", principal="alice")


async def test_get_add_remove_record_use() -> None:
    store = MemoryKeyStore([RECORD])
    assert isinstance(store, AccessKeyStore)
    assert await store.get_key("AKIAEXAMPLE") is RECORD
    assert await store.get_key("AKIAOTHER") is None
    when = datetime(2026, 1, 1, tzinfo=UTC)
    store.record_use("AKIAEXAMPLE", at=when, region="us-east-1", service="s3")
    assert store.last_used["AKIAEXAMPLE"].service == "s3"
    store.remove("AKIAEXAMPLE")
    assert await store.get_key("AKIAEXAMPLE") is None
    await store.aclose()


def test_secret_not_in_repr_and_type_checked() -> None:
    store = MemoryKeyStore([RECORD])
    assert "s3cr3t" not in repr(store)
    assert "s3cr3t" not in repr(RECORD)
    with pytest.raises(TypeError):
        store.add("not a record")  # type: ignore[arg-type]
