"""Infer the signing region and service from an AWS host name.

``sigv4kit request`` and ``presign`` accept a URL alone; for
``*.amazonaws.com`` (and ``*.amazonaws.com.cn``) hosts the credential scope
follows from the name: ``service.region.amazonaws.com``,
``bucket.s3.region.amazonaws.com``, ``s3.amazonaws.com`` (us-east-1),
``api-id.execute-api.region.amazonaws.com``, global services such as IAM
(us-east-1). Anything else must be given explicitly.
"""

from __future__ import annotations

import re

from .._exceptions import SigV4Error

__all__ = ["EndpointInferenceError", "infer_region_service"]

_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}")
_SUFFIXES = (".amazonaws.com.cn", ".amazonaws.com", ".api.aws", ".on.aws")
# Global endpoints sign in us-east-1 (cn-north-1 in China).
_GLOBAL = {"iam": "iam", "sts": "sts", "route53": "route53", "cloudfront": "cloudfront",
           "s3": "s3", "organizations": "organizations", "waf": "waf"}
# Endpoint prefixes whose signing name differs.
_SIGNING_NAME = {"email": "ses", "runtime.sagemaker": "sagemaker", "runtime.lex": "lex",
                 "streams.dynamodb": "dynamodb", "api.ecr": "ecr", "data.iot": "iotdata",
                 "data-ats.iot": "iotdata", "lambda-url": "lambda"}


class EndpointInferenceError(SigV4Error, ValueError):
    """The region or service cannot be inferred from the host name."""


def _s3_label(label: str) -> bool:
    return label == "s3" or label.startswith(("s3-", "s3."))


def infer_region_service(host: str) -> tuple[str, str]:
    """``(region, service)`` of an AWS endpoint host name (port allowed).

    ```python
    infer_region_service("my-bucket.s3.eu-west-1.amazonaws.com")  # ("eu-west-1", "s3")
    ```

    Raises :class:`EndpointInferenceError` when the host is not an AWS
    endpoint the rules recognise.
    """
    name = host.strip().lower().rstrip(".")
    if name.startswith("["):
        name = name.partition("]")[0] + "]"
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    suffix = next((s for s in _SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        raise EndpointInferenceError(
            f"cannot infer region and service from host {host!r} (not *.amazonaws.com): "
            "pass --region and --service"
        )
    china = suffix.endswith(".cn")
    labels = name[: -len(suffix)].split(".")
    default_region = "cn-north-1" if china else "us-east-1"
    # S3: bucket.s3.region / s3.region / s3-region / s3.dualstack.region / s3.
    for index, label in enumerate(labels):
        if _s3_label(label):
            if label.startswith("s3-") and _REGION.fullmatch(label[3:]):
                return label[3:], "s3"
            rest = [part for part in labels[index + 1 :] if _REGION.fullmatch(part)]
            return (rest[0] if rest else default_region), "s3"
    for index, label in enumerate(labels):
        if _REGION.fullmatch(label):
            before = labels[:index]
            after = labels[index + 1 :]
            if after:  # search-domain.region.es.amazonaws.com
                return label, after[0]
            if not before:
                break
            two = ".".join(before[-2:])
            if len(before) >= 2 and two in _SIGNING_NAME:
                return label, _SIGNING_NAME[two]
            service = before[-1].removesuffix("-fips")
            return label, _SIGNING_NAME.get(service, service)
    if len(labels) == 1 and labels[0] in _GLOBAL:
        return default_region, _GLOBAL[labels[0]]
    raise EndpointInferenceError(
        f"cannot infer region and service from host {host!r}: pass --region and --service"
    )
