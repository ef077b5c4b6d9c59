"""KeyCache and UseBatch, the request-path helpers shared by store backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sigv4kit.middleware.store.cache import KeyCache, KeyUse, ServiceUseBatch, UseBatch

from sigv4kit import KeyRecord

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def record(kid: str) -> KeyRecord:
    return KeyRecord(access_key_id=kid, secret_access_key="s", principal="p")


def test_positive_and_negative_ttls() -> None:
    cache = KeyCache(ttl=30, negative_ttl=5, size=10, negative_size=10)
    _, _, epoch = cache.lookup("A", 0)
    cache.remember("A", record("A"), epoch, 0)
    cache.remember("B", None, epoch, 0)
    assert cache.lookup("A", 29)[:2] == (True, record("A"))
    assert cache.lookup("B", 4)[:2] == (True, None)
    assert cache.lookup("B", 5)[0] is False
    assert cache.lookup("A", 30)[0] is False


def test_invalidation_beats_a_racing_load() -> None:
    cache = KeyCache(ttl=30, negative_ttl=5, size=10, negative_size=10)
    _, _, epoch = cache.lookup("A", 0)  # a load starts ...
    cache.evict(["A"])  # ... the key changes meanwhile ...
    cache.remember("A", record("A"), epoch, 0)  # ... the stale answer is not kept
    assert cache.lookup("A", 1)[0] is False
    _, _, epoch = cache.lookup("A", 0)
    cache.clear()
    cache.remember("A", None, epoch, 0)
    assert len(cache) == 0


def test_tiers_bounded_separately() -> None:
    cache = KeyCache(ttl=30, negative_ttl=30, size=2, negative_size=3)
    for kid in ("K1", "K2"):
        cache.remember(kid, record(kid), cache.lookup(kid, 0)[2], 0)
    for i in range(100):  # a flood of unknown ids
        cache.remember(f"X{i}", None, cache.lookup(f"X{i}", 0)[2], 0)
    assert cache.lookup("K1", 1)[0] is True
    assert cache.lookup("K2", 1)[0] is True
    assert len(cache) == 5
    cache.lookup("K1", 1)  # K1 now most recent: K2 is evicted first
    cache.remember("K3", record("K3"), cache.lookup("K3", 1)[2], 1)
    assert cache.lookup("K2", 1)[0] is False
    assert cache.lookup("K1", 1)[0] is True


def test_size_zero_disables_caching() -> None:
    cache = KeyCache(ttl=30, negative_ttl=30, size=0, negative_size=0)
    cache.remember("A", record("A"), cache.lookup("A", 0)[2], 0)
    assert cache.lookup("A", 0)[0] is False


def test_use_batch_keeps_the_latest_and_bounds_memory() -> None:
    batch = UseBatch(limit=2)
    batch.add("A", KeyUse(T0 + timedelta(seconds=2), "r2", "s"))
    batch.add("A", KeyUse(T0, "r0", "s"))  # older: ignored
    batch.add("B", KeyUse(T0, "r", "s"))
    batch.add("C", KeyUse(T0, "r", "s"))  # a third key: dropped
    batch.add("A", KeyUse(T0 + timedelta(seconds=3), "r3", "s"))  # known key: still updated
    notes, dropped = batch.take()
    assert set(notes) == {"A", "B"}
    assert notes["A"].region == "r3"
    assert dropped == 1
    assert batch.take() == ({}, 0)


def test_use_batch_put_back_keeps_newer_notes() -> None:
    batch = UseBatch()
    batch.add("A", KeyUse(T0, "old", "s"))
    taken, _ = batch.take()
    batch.add("A", KeyUse(T0 + timedelta(seconds=1), "new", "s"))  # arrived during the write
    batch.put_back(taken)  # the write failed
    notes, _ = batch.take()
    assert notes["A"].region == "new"


def test_service_use_batch_keeps_the_latest_per_key_and_service() -> None:
    batch = ServiceUseBatch(limit=3)
    batch.add("A", KeyUse(T0 + timedelta(seconds=2), "r2", "s"))
    batch.add("A", KeyUse(T0, "r0", "s"))  # older, same service: ignored
    batch.add("A", KeyUse(T0 + timedelta(seconds=1), "r1", "t"))  # another service: kept
    batch.add("B", KeyUse(T0, "r", "s"))
    batch.add("C", KeyUse(T0, "r", "s"))  # a fourth (key, service): dropped
    batch.add("A", KeyUse(T0 + timedelta(seconds=3), "r3", "s"))  # known pair: still updated
    notes, dropped = batch.take()
    assert {slot: use.region for slot, use in notes.items()} == {
        ("A", "s"): "r3", ("A", "t"): "r1", ("B", "s"): "r"}
    assert dropped == 1
    assert batch.take() == ({}, 0)


def test_latest_per_key_is_the_keys_last_use_whatever_the_service() -> None:
    batch = ServiceUseBatch()
    batch.add("A", KeyUse(T0 + timedelta(seconds=5), "r5", "s"))
    batch.add("A", KeyUse(T0 + timedelta(seconds=1), "r1", "t"))
    batch.add("B", KeyUse(T0, "r0", "t"))
    notes, _ = batch.take()
    latest = ServiceUseBatch.latest_per_key(notes)
    assert {kid: (use.region, use.service) for kid, use in latest.items()} == {
        "A": ("r5", "s"), "B": ("r0", "t")}


def test_service_use_batch_put_back_keeps_newer_notes() -> None:
    batch = ServiceUseBatch()
    batch.add("A", KeyUse(T0, "old", "s"))
    taken, _ = batch.take()
    batch.add("A", KeyUse(T0 + timedelta(seconds=1), "new", "s"))  # arrived during the write
    batch.put_back(taken)  # the write failed
    notes, _ = batch.take()
    assert notes[("A", "s")].region == "new"
