"""What the Query protocol modules share: the error, the service models, small shape helpers."""

from __future__ import annotations

import functools
from typing import Any

from sigv4kit import SigV4Error

__all__ = ["MAX_ECHO", "QueryError", "echo", "load_service_model", "member_name", "sensitive"]

#: Longest echo of a rejected value in a message (AWS truncates long values too).
MAX_ECHO = 128


class QueryError(SigV4Error):
    """A Query API request refused with an AWS error code.

    ``code`` is the AWS error code (``ValidationError``, ``InvalidAction``,
    ``MissingAction``, ...), ``status`` the HTTP status, ``fault`` the
    ``<Type>`` of the error document (``Sender`` or ``Receiver``).
    """

    def __init__(self, code: str, message: str, *, status: int = 400, fault: str = "Sender"):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fault = fault

@functools.cache
def load_service_model(service: str) -> Any:
    """botocore's ``ServiceModel`` for ``service`` (``"iam"``, ``"sts"``), loaded once."""
    from botocore.loaders import create_loader
    from botocore.model import ServiceModel

    data = create_loader().load_service_model(service, "service-2")
    return ServiceModel(data, service_name=service)


def member_name(shape: Any, default: str) -> str:
    name: str = shape.serialization.get("name", default)
    return name

def sensitive(shape: Any) -> bool:
    return bool(getattr(shape, "metadata", {}).get("sensitive"))

def echo(value: str) -> str:
    """``value`` shortened for a message, as AWS shortens echoed values."""
    return value if len(value) <= MAX_ECHO else value[:MAX_ECHO] + "..."
