"""The Query protocol at the edge: GET and POST, malformed requests, bugs, other services.

Requests are signed with sigv4kit's own httpx auth and sent to a real uvicorn;
answers are read with botocore's Query parser where it matters. Bad input
always gets a 4xx with an AWS code, never a 500; a handler bug gets
``ServiceFailure`` (500) with a request id and nothing internal.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _iam_api import Server, iam_server, unique
from _servers import run_uvicorn
from defusedxml import ElementTree
from sigv4kit.middleware import ErrorFormat, SigV4Middleware
from sigv4kit.middleware.iam.api._app import Call, QueryApp, QueryService
from sigv4kit.middleware.iam.api._iam_service import IAM_HANDLERS
from sigv4kit.middleware.iam.api._shapes import load_service_model

from sigv4kit import Credentials, SigV4Auth

NS = "{https://iam.amazonaws.com/doc/2010-05-08/}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with iam_server(f"sqlite:///{tmp_path_factory.mktemp('iam') / 'iam.db'}") as running:
        yield running


def _auth(server: Server, service: str = "iam") -> SigV4Auth:
    creds = Credentials(server.admin["access_key_id"], server.admin["secret_access_key"])
    return SigV4Auth(creds, region="us-east-1", service=service)


def _error(response: httpx.Response) -> tuple[str, str, str, str]:
    """(Type, Code, Message, RequestId) of an ErrorResponse document."""
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{NS}ErrorResponse"
    error = root.find(f"{NS}Error")
    assert error is not None
    return (error.findtext(f"{NS}Type") or "", error.findtext(f"{NS}Code") or "",
            error.findtext(f"{NS}Message") or "", root.findtext(f"{NS}RequestId") or "")


def _post(server: Server, body: str, service: str = "iam") -> httpx.Response:
    return httpx.post(server.url, content=body.encode(), auth=_auth(server, service),
                      headers={"content-type": "application/x-www-form-urlencoded"})


def test_get_with_a_query_string_works(server: Server) -> None:
    name = unique("viaget")
    server.client().create_user(UserName=name)
    response = httpx.get(server.url, params={"Action": "GetUser", "Version": "2010-05-08",
                                             "UserName": name}, auth=_auth(server))
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{NS}GetUserResponse"
    assert root.findtext(f"{NS}GetUserResult/{NS}User/{NS}UserName") == name
    request_id = root.findtext(f"{NS}ResponseMetadata/{NS}RequestId")
    assert request_id == response.headers["x-amzn-requestid"]
    uuid.UUID(request_id)  # IAM's request ids are UUIDs


@pytest.mark.parametrize(("body", "code", "message"), [
    ("Version=2010-05-08", "MissingAction", "The request must contain the parameter Action."),
    ("Action=ListUsers", "MissingParameter", "The request must contain the parameter Version."),
    ("Action=FlyToMoon&Version=2010-05-08", "InvalidAction",
     "Could not find operation FlyToMoon for version 2010-05-08."),
    ("Action=ListUsers&Version=2011-06-15", "InvalidAction",
     "Could not find operation ListUsers for version 2011-06-15."),
    ("Action=ListUsers&Version=2010-05-08&Action=ListUsers", "MalformedQueryString",
     "The parameter Action appears more than once."),
    ("Action=ListUsers&Version=2010-05-08&MaxItems=lots", "InvalidParameterValue",
     "Value 'lots' for parameter MaxItems is invalid: expected an integer."),
    ("Action=CreateUser&Version=2010-05-08&UserName=" + "x" * 65, "ValidationError",
     "1 validation error detected: Value '" + "x" * 65 + "' at 'userName' failed to satisfy "
     "constraint: Member must have length less than or equal to 64"),
])
def test_bad_requests_get_their_aws_error(server: Server, body: str, code: str,
                                          message: str) -> None:
    response = _post(server, body)
    assert response.status_code == 400
    kind, got_code, got_message, request_id = _error(response)
    assert (kind, got_code, got_message) == ("Sender", code, message)
    assert request_id == response.headers["x-amzn-requestid"]


def test_missing_required_member_is_validation_error(server: Server) -> None:
    response = _post(server, "Action=CreateUser&Version=2010-05-08")
    assert response.status_code == 400
    assert _error(response)[1:3] == (
        "ValidationError",
        "1 validation error detected: Value null at 'userName' failed to satisfy constraint: "
        "Member must not be null",
    )


def test_other_methods_are_refused(server: Server) -> None:
    response = httpx.put(server.url, content=b"Action=ListUsers&Version=2010-05-08",
                         auth=_auth(server))
    assert response.status_code == 400
    assert _error(response)[1] == "InvalidHttpRequest"


def test_a_request_signed_for_another_service_is_refused(server: Server) -> None:
    response = _post(server, "Action=ListUsers&Version=2010-05-08", service="s3")
    assert response.status_code in (400, 403)
    assert response.status_code < 500


def test_handler_bug_is_service_failure_without_internals(
    caplog: pytest.LogCaptureFixture, server: Server
) -> None:
    """A broken handler answers 500 ServiceFailure with a request id; the log has the rest."""

    async def broken(call: Call[Any]) -> dict[str, Any]:
        raise RuntimeError("secret internal detail")

    async def context(scope: Any, action: str, params: Any) -> None:
        return None

    service = QueryService(model=load_service_model("iam"),
                           handlers={**IAM_HANDLERS, "ListUsers": broken}, context=context)
    app = SigV4Middleware(QueryApp(service), store=server.store_url,
                          error_format=ErrorFormat.QUERY_XML)
    with caplog.at_level(logging.ERROR, logger="sigv4kit.middleware.iam.api"), \
            run_uvicorn(app) as url:
        creds = Credentials(server.admin["access_key_id"], server.admin["secret_access_key"])
        response = httpx.post(url, content=b"Action=ListUsers&Version=2010-05-08",
                              auth=SigV4Auth(creds, region="us-east-1", service="iam"))
    assert response.status_code == 500
    kind, code, message, request_id = _error(response)
    assert (kind, code) == ("Receiver", "ServiceFailure")
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert message == "The request processing has failed because of an unknown error."
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


def test_output_shape_matches_botocore_parser_for_every_listing(server: Server) -> None:
    """A raw response parses with botocore's QueryParser to the same members boto3 gets."""
    import botocore.parsers

    model = load_service_model("iam")
    response = _post(server, "Action=ListUsers&Version=2010-05-08&MaxItems=1")
    parsed = botocore.parsers.QueryParser().parse(
        {"body": response.content, "headers": dict(response.headers), "status_code": 200},
        model.operation_model("ListUsers").output_shape)
    assert len(parsed["Users"]) == 1
    assert re.fullmatch(r"AIDA[A-Z0-9]+", parsed["Users"][0]["UserId"])


def test_api_all_is_sorted_and_names_what_exists() -> None:
    from sigv4kit.middleware.iam import api

    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert api.__all__ == sorted(api.__all__, key=key)
    for name in api.__all__:
        assert hasattr(api, name), name


def test_every_operation_of_the_issue_has_a_handler() -> None:
    """The operations issue 16 lists, by hand; each must be served."""
    listed = [
        "CreateUser", "GetUser", "ListUsers", "UpdateUser", "DeleteUser", "TagUser",
        "UntagUser", "ListUserTags", "CreateGroup", "GetGroup", "ListGroups", "DeleteGroup",
        "AddUserToGroup", "RemoveUserFromGroup", "ListGroupsForUser", "CreateRole", "GetRole",
        "ListRoles", "DeleteRole", "UpdateAssumeRolePolicy", "UpdateRole", "TagRole",
        "UntagRole", "ListRoleTags", "CreatePolicy", "GetPolicy", "ListPolicies",
        "DeletePolicy", "CreatePolicyVersion", "GetPolicyVersion", "ListPolicyVersions",
        "SetDefaultPolicyVersion", "DeletePolicyVersion", "ListEntitiesForPolicy",
        "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy", "DetachUserPolicy",
        "DetachGroupPolicy", "DetachRolePolicy", "ListAttachedUserPolicies",
        "ListAttachedGroupPolicies", "ListAttachedRolePolicies", "PutUserPolicy",
        "PutGroupPolicy", "PutRolePolicy", "GetUserPolicy", "GetGroupPolicy", "GetRolePolicy",
        "DeleteUserPolicy", "DeleteGroupPolicy", "DeleteRolePolicy", "ListUserPolicies",
        "ListGroupPolicies", "ListRolePolicies", "PutUserPermissionsBoundary",
        "PutRolePermissionsBoundary", "DeleteUserPermissionsBoundary",
        "DeleteRolePermissionsBoundary", "CreateAccessKey", "ListAccessKeys", "UpdateAccessKey",
        "DeleteAccessKey", "GetAccessKeyLastUsed", "GetAccountAuthorizationDetails",
        "SimulateCustomPolicy", "SimulatePrincipalPolicy",
    ]
    assert len(listed) == 67
    # Issue 17: virtual MFA devices and OpenID Connect providers.
    listed_17 = [
        "CreateVirtualMFADevice", "EnableMFADevice", "ResyncMFADevice", "DeactivateMFADevice",
        "DeleteVirtualMFADevice", "ListMFADevices", "ListVirtualMFADevices",
        "CreateOpenIDConnectProvider", "GetOpenIDConnectProvider", "ListOpenIDConnectProviders",
        "DeleteOpenIDConnectProvider", "AddClientIDToOpenIDConnectProvider",
        "RemoveClientIDFromOpenIDConnectProvider", "UpdateOpenIDConnectProviderThumbprint",
    ]
    # Issue 19: console passwords and the account password policy.
    passwords = [
        "CreateLoginProfile", "GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile",
        "ChangePassword", "UpdateAccountPasswordPolicy", "GetAccountPasswordPolicy",
        "DeleteAccountPasswordPolicy",
    ]
    # Issue 18 (activity monitoring) adds the reports, also listed by hand.
    reports = ["GenerateCredentialReport", "GetCredentialReport",
               "GenerateServiceLastAccessedDetails", "GetServiceLastAccessedDetails"]
    assert sorted(IAM_HANDLERS) == sorted(listed + listed_17 + passwords + reports)


def test_store_unavailable_is_503_service_unavailable(server: Server) -> None:
    """A database that does not answer: 503, which the SDKs retry; never a 500."""
    from sigv4kit.middleware import StoreUnavailableError

    async def down(call: Call[Any]) -> dict[str, Any]:
        raise StoreUnavailableError("connection refused to db.internal:5432")

    async def context(scope: Any, action: str, params: Any) -> None:
        return None

    service = QueryService(model=load_service_model("iam"),
                           handlers={"ListUsers": down}, context=context)
    app = SigV4Middleware(QueryApp(service), store=server.store_url,
                          error_format=ErrorFormat.QUERY_XML)
    with run_uvicorn(app) as url:
        creds = Credentials(server.admin["access_key_id"], server.admin["secret_access_key"])
        response = httpx.post(url, content=b"Action=ListUsers&Version=2010-05-08",
                              auth=SigV4Auth(creds, region="us-east-1", service="iam"))
    assert response.status_code == 503
    kind, code, _message, _request_id = _error(response)
    assert (kind, code) == ("Receiver", "ServiceUnavailable")
    assert "db.internal" not in response.text
