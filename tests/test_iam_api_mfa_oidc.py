"""IAM's virtual MFA device and OpenID Connect provider operations through ``serve`` with boto3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from _iam_api import Server, error_of, iam_server, unique
from _sts import enable_mfa, new_user
from botocore.exceptions import ClientError
from sigv4kit.middleware.iam.mfa import code_at, step_at


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('mfa') / 'iam.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def iam(server: Server) -> Any:
    return server.client()


def test_virtual_mfa_device_lifecycle(server: Server, iam: Any) -> None:
    name = unique("phone")
    created = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, Path="/team/")
    device = created["VirtualMFADevice"]
    serial = device["SerialNumber"]
    assert serial == f"arn:aws:iam::{server.account_id}:mfa/team/{name}"
    assert len(device["Base32StringSeed"]) == 64
    assert device["QRCodePNG"].startswith(b"\x89PNG\r\n\x1a\n")
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")
    assert serial in [d["SerialNumber"] for d in unassigned["VirtualMFADevices"]]
    user, _key = new_user(server)
    with pytest.raises(ClientError) as exc:  # two codes that are not the device's
        iam.enable_mfa_device(UserName=user, SerialNumber=serial,
                              AuthenticationCode1="000000", AuthenticationCode2="000001")
    assert error_of(exc)[0::2] == ("InvalidAuthenticationCode", 403)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_enable_resync_deactivate(server: Server, iam: Any) -> None:
    user, _key = new_user(server)
    serial, seed, _step = enable_mfa(server, user)
    listed = iam.list_mfa_devices(UserName=user)["MFADevices"]
    assert [(d["UserName"], d["SerialNumber"]) for d in listed] == [(user, serial)]
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    mine = [d for d in assigned if d["SerialNumber"] == serial]
    assert mine[0]["User"]["UserName"] == user
    with pytest.raises(ClientError) as exc:  # assigned: cannot be deleted
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc)[0::2] == ("DeleteConflict", 409)
    step = step_at(time.time())
    iam.resync_mfa_device(UserName=user, SerialNumber=serial,
                          AuthenticationCode1=code_at(seed, step + 1),
                          AuthenticationCode2=code_at(seed, step + 2))
    iam.deactivate_mfa_device(UserName=user, SerialNumber=serial)
    assert iam.list_mfa_devices(UserName=user)["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    # Another account's device is not found.
    with pytest.raises(ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber="arn:aws:iam::999999999999:mfa/x")
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)


def test_open_id_connect_provider_operations(server: Server, iam: Any) -> None:
    url = f"https://{unique('issuer')}.example.com"
    arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["app-1"], ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    host = url.removeprefix("https://")
    assert arn == f"arn:aws:iam::{server.account_id}:oidc-provider/{host}"
    with pytest.raises(ClientError) as exc:
        iam.create_open_id_connect_provider(Url=url, ClientIDList=["x"],
                                            ThumbprintList=["a" * 40])
    assert error_of(exc)[0::2] == ("EntityAlreadyExists", 409)
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                  ClientID="app-2")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                   ThumbprintList=["b" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert (got["Url"], got["ClientIDList"], got["ThumbprintList"]) == (
        host, ["app-1", "app-2"], ["b" * 40])
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                       ClientID="app-1")
    assert iam.get_open_id_connect_provider(
        OpenIDConnectProviderArn=arn)["ClientIDList"] == ["app-2"]
    assert {"Arn": arn} in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    with pytest.raises(ClientError) as exc:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert error_of(exc)[0::2] == ("NoSuchEntity", 404)
    with pytest.raises(ClientError) as exc:  # plain http only on a loopback address
        iam.create_open_id_connect_provider(Url="http://issuer.example.com",
                                            ThumbprintList=["a" * 40])
    assert error_of(exc)[0::2] == ("InvalidInput", 400)


def test_mfa_and_oidc_operations_are_authorized(server: Server) -> None:
    user, key = new_user(server)
    denied = server.client(key)
    for call in (lambda: denied.create_virtual_mfa_device(VirtualMFADeviceName=unique("d")),
                 lambda: denied.list_open_id_connect_providers(),
                 lambda: denied.list_mfa_devices(UserName=user)):
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc)[0::2] == ("AccessDenied", 403)
