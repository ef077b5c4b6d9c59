"""Console events for the audit trail, shaped as CloudTrail records them.

* ``ConsoleLogin`` (``signin.amazonaws.com``, ``AwsConsoleSignIn``): success
  or failure, ``MFAUsed``; a failed sign-in of a user name that does not
  exist is recorded as ``HIDDEN_DUE_TO_SECURITY_REASONS``, as AWS does, so
  the trail does not collect mistyped passwords entered as user names.
* Console actions (``iam.amazonaws.com``, ``AwsApiCall``) with
  ``sessionCredentialFromConsole``; request parameters pass the audit
  package's redaction (no password, no secret ever recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..audit import AuditEvent, IdentityType, Resource, UserIdentity, redact

__all__ = ["HIDDEN", "console_action_event", "console_login_event"]

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"


def console_login_event(
    *, when: datetime, account_id: str | None, user_name: str | None, owner_id: str | None,
    root: bool, success: bool, mfa_used: bool, source_ip: str, user_agent: str,
    known_user: bool,
) -> AuditEvent:
    """One ``ConsoleLogin`` record."""
    if root:
        identity = UserIdentity(
            type=IdentityType.ROOT, principal_id=account_id, account_id=account_id,
            arn=None if account_id is None else f"arn:aws:iam::{account_id}:root",
        )
    elif known_user and user_name is not None:
        identity = UserIdentity(
            type=IdentityType.IAM_USER, principal_id=owner_id, account_id=account_id,
            user_name=user_name,
        )
    else:
        identity = UserIdentity(type=IdentityType.IAM_USER, account_id=account_id,
                                user_name=HIDDEN)
    return AuditEvent(
        event_time=when,
        event_source="signin.amazonaws.com",
        event_name="ConsoleLogin",
        aws_region="us-east-1",
        source_ip_address=source_ip,
        user_agent=user_agent,
        request_id=str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        read_only=False,
        user_identity=identity,
        recipient_account_id=account_id,
        error_message=None if success else "Failed authentication",
        response_elements={"ConsoleLogin": "Success" if success else "Failure"},
        event_type="AwsConsoleSignIn",
        extra={"additionalEventData": {"MFAUsed": "Yes" if mfa_used else "No",
                                       "LoginTo": "/console/"}},
    )


def console_action_event(
    *, when: datetime, action: str, params: Mapping[str, Any], identity: UserIdentity,
    account_id: str, source_ip: str, user_agent: str, error: tuple[str, str] | None,
    read_only: bool, resource: str | None,
) -> AuditEvent:
    """One IAM action taken in the console."""
    return AuditEvent(
        event_time=when,
        event_source="iam.amazonaws.com",
        event_name=action,
        aws_region="us-east-1",
        source_ip_address=source_ip,
        user_agent=user_agent,
        request_id=str(uuid.uuid4()),
        event_id=str(uuid.uuid4()),
        read_only=read_only,
        user_identity=identity,
        recipient_account_id=account_id,
        resources=() if resource is None else (Resource(arn=resource, account_id=account_id),),
        error_code=None if error is None else error[0],
        error_message=None if error is None else error[1],
        request_parameters=redact(dict(params)),
        extra={"sessionCredentialFromConsole": "true"},
    )
