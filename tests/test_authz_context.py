"""The request context IAMAuthorizer builds, resource templates, and the client address.

The context comes from :meth:`IAMAuthorizer.load` on a real SQLite IAM store
with an injected clock; expected values are written out here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sigv4kit.middleware import CallerIdentity, CallerKind, CallerSession, MasterKey, open_store
from sigv4kit.middleware.asgi.request import parse_trusted_proxies
from sigv4kit.middleware.iam.authz import (
    IAMAuthorizer,
    IAMUser,
    ResourceTemplate,
    ResourceTemplateError,
    source_ip,
)
from sigv4kit.middleware.iam.authz._request import secure_transport
from sigv4kit.middleware.iam.entities import IAMStore

from sigv4kit import Identity, SigningAlgorithm

ACCOUNT = "123456789012"
NOW = datetime(2026, 12, 3, 13, 40, 5, tzinfo=UTC)


def caller(access_key_id: str, *, arn: str, kind: CallerKind = CallerKind.USER,
           region: str = "eu-central-1", session: CallerSession | None = None) -> CallerIdentity:
    identity = Identity(principal=arn.rsplit("/", 1)[-1], access_key_id=access_key_id,
                        temporary=bool(session and session.temporary), region=region,
                        service="orders", signed_headers=("host", "x-amz-date"),
                        algorithm=SigningAlgorithm.SIGV4, presigned=False, request_time=NOW)
    return CallerIdentity(sigv4=identity, account_id=ACCOUNT, arn=arn, kind=kind,
                          session=session or CallerSession(temporary=False))


def scope(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": "http", "method": "GET", "path": "/orders",
                            "scheme": "http", "client": ("192.0.2.10", 5555),
                            "headers": [(b"host", b"orders"), (b"user-agent", b"agent/1.0")]}
    return base | extra


@pytest.fixture
async def iam(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[IAMStore]:
    monkeypatch.setenv("SIGV4KIT_MASTER_KEY", MasterKey.generate().to_base64())
    store = open_store(f"sqlite:///{tmp_path}/iam.db")
    iam = IAMStore(store)
    await iam.create_account(ACCOUNT)
    try:
        yield iam
    finally:
        await store.aclose()


async def test_user_context_keys(iam: IAMStore) -> None:
    user = await iam.create_user(ACCOUNT, "bob", path="/eng/", tags={"team": "blue"})
    key = await iam.create_access_key(ACCOUNT, "bob")
    authorizer = IAMAuthorizer(iam, clock=lambda: NOW)
    request_scope = scope()
    request = await authorizer.load(caller(key.access_key_id, arn=user.arn), request_scope)
    assert dict(request.context) == {
        "aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/eng/bob",
        "aws:PrincipalAccount": ACCOUNT,
        "aws:PrincipalType": "User",
        "aws:userid": user.user_id,
        "aws:username": "bob",
        "aws:PrincipalTag/team": "blue",
        "aws:ViaAWSService": "false",
        "aws:CurrentTime": "2026-12-03T13:40:05Z",
        "aws:EpochTime": str(int(NOW.timestamp())),
        "aws:SecureTransport": "false",
        "aws:RequestedRegion": "eu-central-1",
        "aws:SourceIp": "192.0.2.10",
        "aws:UserAgent": "agent/1.0",
    }
    assert user.user_id.startswith("AIDA")
    assert request_scope["sigv4.iam"] is request
    assert isinstance(request_scope["user"], IAMUser)
    assert request.region == "eu-central-1"
    assert request.account_id == ACCOUNT


async def test_the_clock_is_read_per_request(iam: IAMStore) -> None:
    await iam.create_user(ACCOUNT, "tick")
    key = await iam.create_access_key(ACCOUNT, "tick")
    times = iter([NOW, NOW + timedelta(seconds=61)])
    authorizer = IAMAuthorizer(iam, clock=lambda: next(times))
    who = caller(key.access_key_id, arn=f"arn:aws:iam::{ACCOUNT}:user/tick")
    first = await authorizer.load(who, scope())
    second = await authorizer.load(who, scope())
    assert first.context["aws:CurrentTime"] == "2026-12-03T13:40:05Z"
    assert second.context["aws:CurrentTime"] == "2026-12-03T13:41:06Z"
    assert int(str(second.context["aws:EpochTime"])) - int(str(first.context["aws:EpochTime"])
                                                           ) == 61


async def test_https_and_no_user_agent(iam: IAMStore) -> None:
    user = await iam.create_user(ACCOUNT, "sec")
    key = await iam.create_access_key(ACCOUNT, "sec")
    authorizer = IAMAuthorizer(iam, clock=lambda: NOW)
    request = await authorizer.load(caller(key.access_key_id, arn=user.arn),
                                    scope(scheme="https", headers=[(b"host", b"orders")]))
    assert request.context["aws:SecureTransport"] == "true"
    assert "aws:UserAgent" not in request.context


async def test_long_term_keys_have_no_session_keys(iam: IAMStore) -> None:
    user = await iam.create_user(ACCOUNT, "longterm")
    key = await iam.create_access_key(ACCOUNT, "longterm")
    request = await IAMAuthorizer(iam, clock=lambda: NOW).load(
        caller(key.access_key_id, arn=user.arn), scope())
    for name in ("aws:TokenIssueTime", "aws:MultiFactorAuthPresent", "aws:MultiFactorAuthAge"):
        assert name not in request.context


async def test_temporary_credentials_carry_session_keys(iam: IAMStore) -> None:
    user = await iam.create_user(ACCOUNT, "temp")
    key = await iam.create_access_key(ACCOUNT, "temp")
    issued = NOW - timedelta(minutes=5)
    authorizer = IAMAuthorizer(iam, clock=lambda: NOW)
    with_mfa = CallerSession(temporary=True, issued_at=issued, mfa_authenticated=True)
    request = await authorizer.load(
        caller(key.access_key_id, arn=user.arn, session=with_mfa), scope())
    assert request.context["aws:TokenIssueTime"] == "2026-12-03T13:35:05Z"
    assert request.context["aws:MultiFactorAuthPresent"] == "true"
    assert request.context["aws:MultiFactorAuthAge"] == "300"
    without = CallerSession(temporary=True, issued_at=issued, mfa_authenticated=False)
    request = await authorizer.load(
        caller(key.access_key_id, arn=user.arn, session=without), scope())
    assert request.context["aws:MultiFactorAuthPresent"] == "false"
    assert "aws:MultiFactorAuthAge" not in request.context


async def test_root_user_context_and_decision(iam: IAMStore) -> None:
    store = iam._store  # legacy root principals live in the default account, 000000000000
    await store.create_principal("owner", root=True)
    key = await store.create_key("owner")
    authorizer = IAMAuthorizer(iam, clock=lambda: NOW)
    root = caller(key.access_key_id, arn="arn:aws:iam::000000000000:root", kind=CallerKind.ROOT)
    request = await authorizer.load(root, scope())
    assert request.context["aws:PrincipalType"] == "Account"
    assert request.context["aws:userid"] == "000000000000"
    assert request.context["aws:PrincipalArn"] == "arn:aws:iam::000000000000:root"
    assert "aws:username" not in request.context
    assert request.authorize("orders:DeleteOrder",
                             "arn:aws:orders:us-east-1:000000000000:order/1").allowed
    assert request.user.is_root
    assert request.user.user_name is None


async def test_app_context_cannot_override_request_keys(iam: IAMStore) -> None:
    user = await iam.create_user(ACCOUNT, "spoof")
    key = await iam.create_access_key(ACCOUNT, "spoof")
    await iam.put_user_policy(ACCOUNT, "spoof", "net", (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder",'
        '"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},'
        '"StringEquals":{"orders:Channel":"web"}}}]}'))
    request = await IAMAuthorizer(iam, clock=lambda: NOW).load(
        caller(key.access_key_id, arn=user.arn), scope())
    extra = {"aws:SourceIp": "10.1.2.3", "orders:Channel": "web"}
    assert not request.decide("orders:GetOrder", "arn:aws:orders:::order/1", extra).allowed
    other = await IAMAuthorizer(iam, clock=lambda: NOW).load(
        caller(key.access_key_id, arn=user.arn), scope(client=("10.9.9.9", 1)))
    assert other.decide("orders:GetOrder", "arn:aws:orders:::order/1", extra).allowed
    assert not other.decide("orders:GetOrder", "arn:aws:orders:::order/1").allowed


# -- aws:SourceIp and aws:SecureTransport behind proxies -------------------------------------

PROXIES = parse_trusted_proxies(["10.0.0.0/8"])


def forwarded(peer: str, *values: str, proto: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", value.encode()) for value in values]
    if proto is not None:
        headers.append((b"x-forwarded-proto", proto.encode()))
    return scope(client=(peer, 1), headers=headers)


@pytest.mark.parametrize(("request_scope", "proxies", "expected"), [
    (forwarded("192.0.2.1"), (), "192.0.2.1"),
    (forwarded("192.0.2.1", "198.51.100.7"), (), "192.0.2.1"),  # no proxy trusted
    (forwarded("192.0.2.1", "198.51.100.7"), PROXIES, "192.0.2.1"),  # peer not a proxy
    (forwarded("10.0.0.5", "198.51.100.7"), PROXIES, "198.51.100.7"),
    (forwarded("10.0.0.5", "6.6.6.6, 198.51.100.7, 10.0.0.9"), PROXIES, "198.51.100.7"),
    (forwarded("10.0.0.5", "6.6.6.6", "198.51.100.7"), PROXIES, "198.51.100.7"),  # two headers
    (forwarded("10.0.0.5", "10.0.0.7, 10.0.0.9"), PROXIES, "10.0.0.7"),  # all proxies
    (forwarded("10.0.0.5", "not-an-ip, 10.0.0.9"), PROXIES, "10.0.0.9"),
    (forwarded("10.0.0.5"), PROXIES, "10.0.0.5"),
    (forwarded("10.0.0.5", "2001:db8::1"), PROXIES, "2001:db8::1"),
], ids=["peer", "untrusted-xff", "peer-not-proxy", "one-hop", "rightmost-untrusted",
        "two-headers", "all-proxies", "malformed", "no-xff", "ipv6"])
def test_source_ip(request_scope: dict[str, Any], proxies: Any, expected: str) -> None:
    assert source_ip(request_scope, proxies) == expected


def test_source_ip_without_client() -> None:
    assert source_ip(scope(client=None), PROXIES) is None


def test_secure_transport_trusts_forwarded_proto_only_from_proxies() -> None:
    assert secure_transport(forwarded("10.0.0.5", proto="https"), PROXIES)
    assert not secure_transport(forwarded("192.0.2.1", proto="https"), PROXIES)
    assert not secure_transport(forwarded("10.0.0.5", proto="http"), PROXIES)
    assert secure_transport(scope(scheme="https"), ())


# -- resource templates ----------------------------------------------------------------------


def test_template_fills_path_params_region_and_account() -> None:
    template = ResourceTemplate.parse("arn:aws:orders:{region}:{account}:order/{order_id}")
    assert template.path_fields == frozenset({"order_id"})
    assert template.fill({"order_id": "42"}, region="eu-west-1", account=ACCOUNT) == (
        f"arn:aws:orders:eu-west-1:{ACCOUNT}:order/42")
    assert ResourceTemplate.parse("arn:aws:x:::{{literal}}/*").fill(
        {}, region="r", account="a") == "arn:aws:x:::{literal}/*"


def test_missing_path_param_names_it_and_the_route_params() -> None:
    template = ResourceTemplate.parse("arn:aws:orders:{region}:{account}:order/{order_id}")
    with pytest.raises(ResourceTemplateError) as caught:
        template.fill({"id": "1", "shop": "x"}, region="r", account="a")
    assert str(caught.value) == (
        "resource template 'arn:aws:orders:{region}:{account}:order/{order_id}' needs the path "
        "parameter 'order_id', which this route does not have (it has: id, shop)")
    with pytest.raises(ResourceTemplateError, match=r"\(it has: none\)"):
        template.fill({}, region="r", account="a")


@pytest.mark.parametrize(("text", "message"), [
    ("", "a resource template must be a non-empty string"),
    ("arn:aws:orders:{region", "resource template 'arn:aws:orders:{region': expected '}' "
                               "before end of string"),
    ("arn:aws:orders}", "resource template 'arn:aws:orders}': Single '}' encountered in "
                        "format string"),
    ("order/{0}", "resource template 'order/{0}': field {0} is not a plain name like "
                  "{order_id}"),
    ("order/{}", "resource template 'order/{}': field {} is not a plain name like {order_id}"),
    ("order/{id.x}", "resource template 'order/{id.x}': field {id.x} is not a plain name "
                     "like {order_id}"),
    ("order/{id!r}", "resource template 'order/{id!r}': field {id!r} is not a plain name "
                     "like {order_id}"),
    ("order/{id:>9}", "resource template 'order/{id:>9}': field {id:>9} is not a plain name "
                      "like {order_id}"),
])
def test_bad_templates_are_refused_with_a_precise_message(text: str, message: str) -> None:
    with pytest.raises(ResourceTemplateError) as caught:
        ResourceTemplate.parse(text)
    assert str(caught.value) == message


def test_authz_all_is_sorted_and_complete() -> None:
    import importlib
    import pkgutil

    from sigv4kit.middleware.iam import authz

    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert authz.__all__ == sorted(authz.__all__, key=key)
    for name in authz.__all__:
        assert hasattr(authz, name), name
    for info in pkgutil.iter_modules(authz.__path__):
        module = importlib.import_module(f"sigv4kit.middleware.iam.authz.{info.name}")
        for name in getattr(module, "__all__", []):
            assert name in authz.__all__, f"{info.name}.{name} is not exported"


def test_remembered_condition_answers_stay_right_past_the_memory() -> None:
    """Conditions remember answers per request value: many values, repeated, still decide right."""
    import ipaddress

    from sigv4kit.middleware.iam.policy import (
        AuthorizationRequest,
        Policy,
        PolicyType,
        Principal,
        PrincipalType,
        evaluate,
    )

    policy = Policy.parse(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"orders:GetOrder",'
        '"Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/9"},'
        '"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}]}',
        policy_type=PolicyType.IDENTITY)
    who = Principal(arn=f"arn:aws:iam::{ACCOUNT}:user/x", account=ACCOUNT, type=PrincipalType.USER)
    network = ipaddress.ip_network("10.0.0.0/9")
    for round_ in range(2):
        for n in range(700):
            address = f"10.{(n * 7) % 256}.{n % 256}.1"
            day = "2025-12-31" if (n + round_) % 3 == 0 else "2026-06-01"
            request = AuthorizationRequest(principal=who, action="orders:GetOrder", resource="x",
                                           context={"aws:SourceIp": address,
                                                    "aws:CurrentTime": f"{day}T00:00:00Z"})
            expected = ipaddress.ip_address(address) in network and day == "2026-06-01"
            assert evaluate(request, identity_policies=[policy]).allowed is expected, (address, day)
