"""IAM's pure rules: unique ids, account ids, markers and paging (property tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sigv4kit.middleware.iam.entities import InvalidInput, ValidationError
from sigv4kit.middleware.iam.entities._base import page_of
from sigv4kit.middleware.iam.entities._rules import (
    check_path,
    decode_marker,
    encode_marker,
    new_account_id,
    new_unique_id,
    parse_policy_arn,
)


def test_unique_id_uses_every_byte_without_bias() -> None:
    # byte % 32 indexes A-Z2-7: 0 -> A, 25 -> Z, 26 -> 2, 31 -> 7, 32 -> A, 255 -> 7.
    draws = iter([bytes([0, 25, 26, 31, 32, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])])
    assert new_unique_id("AIDA", lambda n: next(draws)) == "AIDAAZ27A7BCDEFGHIJKL"


def test_account_id_rejects_biased_bytes() -> None:
    # Bytes 250..255 would favour 0..5; they are drawn again, not used.
    draws = iter([bytes([250, 251, 1, 2, 3, 255, 4, 5, 6, 7, 8, 9, 19, 29, 249, 252]), bytes(16)])
    assert new_account_id(lambda n: next(draws)) == "123456789999"


def test_policy_arns() -> None:
    assert parse_policy_arn("arn:aws:iam::123456789012:policy/a/b/read") == (
        "123456789012",
        "/a/b/",
        "read",
    )
    assert parse_policy_arn("arn:aws:iam::aws:policy/ReadOnlyAccess") == (
        "aws",
        "/",
        "ReadOnlyAccess",
    )
    for bad in ("arn:aws:iam::123:policy/x", "arn:aws:s3:::bucket", "policy/x", ""):
        with pytest.raises(InvalidInput) as info:
            parse_policy_arn(bad)
        assert str(info.value) == f"ARN {bad} is not valid."


def test_paths() -> None:
    assert check_path("/") == "/"
    assert check_path("/a/b!~/") == "/a/b!~/"
    with pytest.raises(ValidationError) as info:
        check_path("/a b/")
    assert str(info.value) == (
        "1 validation error detected: Value '/a b/' at 'path' failed to satisfy constraint: "
        r"Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)"
    )


@given(st.lists(st.one_of(st.text(max_size=20), st.integers()), max_size=3))
def test_markers_round_trip(key: list[str | int]) -> None:
    marker = encode_marker(key)
    assert marker.isascii()
    assert decode_marker(marker, len(key)) == tuple(key)


@given(st.text(max_size=40))
def test_foreign_markers_are_invalid_input_or_a_key(marker: str) -> None:
    try:
        decoded = decode_marker(marker, 1)
    except InvalidInput as exc:
        message = str(exc)
    else:
        assert decoded is not None
        assert len(decoded) == 1
        return
    assert message == "Invalid Marker."


@given(st.sets(st.text(min_size=1, max_size=8)), st.integers(min_value=1, max_value=12))
def test_paging_returns_every_item_once_in_order(names: set[str], size: int) -> None:
    items = sorted(names)
    seen: list[str] = []
    marker = None
    for _page in range(len(items) + 2):
        page = page_of(items, lambda s: s, marker, size)
        assert len(page.items) <= size
        seen += page.items
        if not page.is_truncated:
            break
        marker = page.marker
    assert seen == items


def test_entities_all_is_sorted_and_complete() -> None:
    import importlib

    import sigv4kit.middleware.iam.entities as entities

    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert entities.__all__ == sorted(entities.__all__, key=key)
    for name in entities.__all__:
        assert hasattr(entities, name), name
    # The records, errors and the store are exported; the mixins stay private.
    for module_name in ("_errors", "_model", "_store", "_cache"):
        module = importlib.import_module(f"sigv4kit.middleware.iam.entities.{module_name}")
        for name in module.__all__:
            assert name in entities.__all__, f"{module_name}.{name} is not exported"
