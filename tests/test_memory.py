"""MemoryKeyStore satisfies the AccessKeyStore protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


async def test_service_last_used_is_per_principal_and_outlives_the_key() -> None:
    other = KeyRecord(access_key_id="AKIAOTHER", secret_access_key="x", principal="alice")
    store = MemoryKeyStore([RECORD, other])
    when = datetime(2026, 1, 1, tzinfo=UTC)
    store.record_use("AKIAEXAMPLE", at=when, region="us-east-1", service="s3")
    store.record_use("AKIAEXAMPLE", at=when + timedelta(1), region="eu-west-1", service="sqs")
    store.record_use("AKIAOTHER", at=when - timedelta(1), region="ap-south-1", service="s3")
    store.remove("AKIAEXAMPLE")
    assert {slot: (u.at, u.region) for slot, u in store.service_last_used.items()} == {
        ("alice", "s3"): (when, "us-east-1"),
        ("alice", "sqs"): (when + timedelta(1), "eu-west-1"),
    }
    assert store.last_used["AKIAEXAMPLE"].service == "sqs"


def test_secret_not_in_repr_and_type_checked() -> None:
    store = MemoryKeyStore([RECORD])
    assert "s3cr3t" not in repr(store)
    assert "s3cr3t" not in repr(RECORD)
    with pytest.raises(TypeError):
        store.add("not a record")  # type: ignore[arg-type]
