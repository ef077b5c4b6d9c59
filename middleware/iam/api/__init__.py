"""The IAM and STS APIs on the wire.

The AWS Query protocol, read and written from botocore's own service models, so
every shape is the one boto3 and the AWS CLI parse. One module per step:
``_query`` (form body → typed input), ``_validate`` (the model's constraints, in
AWS's words), ``_response`` (output → XML, errors), ``_shapes`` (what they share).
This package may import ``sigv4kit`` (the exception root) and botocore's model
loader; it holds no state and does no I/O.
"""

from __future__ import annotations

from ._query import MAX_FIELDS, QueryRequest, decode_form, parse_query_request, read_params
from ._response import serialize_error, serialize_response
from ._shapes import MAX_ECHO, QueryError, load_service_model
from ._validate import validate_params

__all__ = [
    "MAX_ECHO",
    "MAX_FIELDS",
    "QueryError",
    "QueryRequest",
    "decode_form",
    "load_service_model",
    "parse_query_request",
    "read_params",
    "serialize_error",
    "serialize_response",
    "validate_params",
]
