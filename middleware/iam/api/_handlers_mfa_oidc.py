"""IAM handlers: virtual MFA devices and OpenID Connect providers, over the MFA and OIDC stores.

The stores (:class:`~..mfa.MFAStore`, :class:`~..oidc.OIDCProviderStore`)
work on the same key store as the IAM entities. A device or provider is
named by ARN; one of another account is answered as not found (IAM never
shows another account's resources).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..entities import NoSuchEntity
from ..mfa import MFADevice, MFAStore
from ..oidc import OIDCProviderStore
from . import _iam_shapes as shapes
from ._app import Handler
from ._handlers_common import IAMCall, ctx, user_or_caller

__all__ = ["HANDLERS"]


def _stores(call: IAMCall) -> tuple[Any, str, datetime]:
    """The key store under the IAM store, the caller's account and the IAM clock's now."""
    iam, account = ctx(call)
    return iam._store, account, iam._clock()


def _mfa(call: IAMCall) -> tuple[MFAStore, str, datetime]:
    store, account, now = _stores(call)
    return MFAStore(store), account, now


def _own_serial(call: IAMCall, account: str) -> str:
    serial = str(call.params["SerialNumber"])
    if not serial.startswith(f"arn:aws:iam::{account}:mfa/"):
        raise NoSuchEntity(f"MFA Device with serial number {serial} does not exist.")
    return serial


async def create_virtual_mfa_device(call: IAMCall) -> dict[str, Any]:
    mfa, account, now = _mfa(call)
    new = await mfa.create_virtual_mfa_device(
        account, call.params["VirtualMFADeviceName"], path=call.params.get("Path", "/"), now=now
    )
    return {"VirtualMFADevice": {
        "SerialNumber": new.serial_number,
        "Base32StringSeed": new.base32_string_seed.encode("ascii"),
        "QRCodePNG": new.qr_code_png,
    }}


def _two_codes(method: str) -> Handler:
    async def handler(call: IAMCall) -> None:
        mfa, account, now = _mfa(call)
        p = call.params
        await getattr(mfa, method)(
            account, p["UserName"], _own_serial(call, account),
            p["AuthenticationCode1"], p["AuthenticationCode2"], now=now,
        )

    return handler


async def deactivate_mfa_device(call: IAMCall) -> None:
    mfa, account, now = _mfa(call)
    user = user_or_caller(call)
    await mfa.deactivate_mfa_device(account, user, _own_serial(call, account), now=now)


async def delete_virtual_mfa_device(call: IAMCall) -> None:
    mfa, account, _now = _mfa(call)
    await mfa.delete_virtual_mfa_device(_own_serial(call, account))


def _device(item: MFADevice) -> dict[str, Any]:
    return {"UserName": item.user_name, "SerialNumber": item.serial_number,
            "EnableDate": item.enable_date}


async def list_mfa_devices(call: IAMCall) -> dict[str, Any]:
    mfa, account, _now = _mfa(call)
    devices = await mfa.list_mfa_devices(account, user_or_caller(call))
    return {"MFADevices": [_device(d) for d in devices], "IsTruncated": False}


async def list_virtual_mfa_devices(call: IAMCall) -> dict[str, Any]:
    mfa, account, _now = _mfa(call)
    iam = call.context.iam
    status = call.params.get("AssignmentStatus", "Any")
    devices = await mfa.list_virtual_mfa_devices(account, status)
    listed: list[dict[str, Any]] = []
    for device in devices:
        entry: dict[str, Any] = {"SerialNumber": device.serial_number}
        if device.user_name is not None:
            entry["User"] = shapes.user(await iam.get_user(account, device.user_name),
                                        with_tags=False)
            entry["EnableDate"] = device.enable_date
        listed.append(entry)
    return {"VirtualMFADevices": listed, "IsTruncated": False}


# -- OpenID Connect providers -------------------------------------------------------------------


def _oidc(call: IAMCall) -> tuple[OIDCProviderStore, str, str]:
    """The provider store, the caller's account, and the request's provider ARN (if any)."""
    store, account, _now = _stores(call)
    arn = str(call.params.get("OpenIDConnectProviderArn", ""))
    if arn and not arn.startswith(f"arn:aws:iam::{account}:oidc-provider/"):
        raise NoSuchEntity(f"OpenIDConnect provider not found for arn {arn}")
    return OIDCProviderStore(store), account, arn


async def create_open_id_connect_provider(call: IAMCall) -> dict[str, Any]:
    store, account, now = _stores(call)
    p = call.params
    provider = await OIDCProviderStore(store).create_open_id_connect_provider(
        account, p["Url"], client_ids=p.get("ClientIDList", ()),
        thumbprints=p.get("ThumbprintList", ()), now=now,
    )
    return {"OpenIDConnectProviderArn": provider.arn}


async def get_open_id_connect_provider(call: IAMCall) -> dict[str, Any]:
    oidc, _account, arn = _oidc(call)
    provider = await oidc.get_open_id_connect_provider(arn)
    # IAM's Url is the provider's URL without its scheme.
    return {"Url": provider.prefix, "ClientIDList": list(provider.client_ids),
            "ThumbprintList": list(provider.thumbprints)}


async def list_open_id_connect_providers(call: IAMCall) -> dict[str, Any]:
    oidc, account, _arn = _oidc(call)
    providers = await oidc.list_open_id_connect_providers(account)
    return {"OpenIDConnectProviderList": [{"Arn": p.arn} for p in providers]}


async def delete_open_id_connect_provider(call: IAMCall) -> None:
    oidc, _account, arn = _oidc(call)
    await oidc.delete_open_id_connect_provider(arn)


async def add_client_id(call: IAMCall) -> None:
    oidc, _account, arn = _oidc(call)
    await oidc.add_client_id_to_open_id_connect_provider(arn, call.params["ClientID"])


async def remove_client_id(call: IAMCall) -> None:
    oidc, _account, arn = _oidc(call)
    await oidc.remove_client_id_from_open_id_connect_provider(arn, call.params["ClientID"])


async def update_thumbprint(call: IAMCall) -> None:
    oidc, _account, arn = _oidc(call)
    await oidc.update_open_id_connect_provider_thumbprint(arn, call.params["ThumbprintList"])


HANDLERS: dict[str, Handler] = {
    "CreateVirtualMFADevice": create_virtual_mfa_device,
    "EnableMFADevice": _two_codes("enable_mfa_device"),
    "ResyncMFADevice": _two_codes("resync_mfa_device"),
    "DeactivateMFADevice": deactivate_mfa_device,
    "DeleteVirtualMFADevice": delete_virtual_mfa_device,
    "ListMFADevices": list_mfa_devices,
    "ListVirtualMFADevices": list_virtual_mfa_devices,
    "CreateOpenIDConnectProvider": create_open_id_connect_provider,
    "GetOpenIDConnectProvider": get_open_id_connect_provider,
    "ListOpenIDConnectProviders": list_open_id_connect_providers,
    "DeleteOpenIDConnectProvider": delete_open_id_connect_provider,
    "AddClientIDToOpenIDConnectProvider": add_client_id,
    "RemoveClientIDFromOpenIDConnectProvider": remove_client_id,
    "UpdateOpenIDConnectProviderThumbprint": update_thumbprint,
}
