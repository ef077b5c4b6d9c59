"""What IAM accepts, per policy type: one frozen settings row per :class:`PolicyType`.

Every policy-type difference in validation is a named field here, with the
document that decides it; the parser reads the row and never branches on the
type itself. Messages are IAM's own where a public record of IAM's answer
exists (cited next to each); the few without one are marked as ours.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from ._elements import PolicyType

__all__ = [
    "MAX_DOCUMENT_LENGTH",
    "OPERATOR_FAMILIES",
    "SIZE_QUOTAS",
    "VARIABLE_FAMILIES",
    "Messages",
    "Need",
    "TypeRules",
    "rules_for",
]

# IAM's policyDocumentType (botocore iam/2010-05-08 service-2.json): at most
# 131,072 characters, all of them in [\u0009\u000A\u000D\u0020-\u00FF]. A hard
# cap for every type, checked before any parsing.
MAX_DOCUMENT_LENGTH = 131_072
ALLOWED_CHARACTERS = r"[\u0009\u000A\u000D\u0020-\u00FF]"

# IAM and STS quotas, in characters (reference_iam-quotas.md, "IAM and AWS STS
# character limits"; "IAM doesn't count white space when calculating the size
# of a policy"). Inline limits are aggregates over all inline policies of one
# entity, so only the caller that knows the entity can enforce them; the
# numbers are exported for it.
SIZE_QUOTAS = {
    "managed": 6_144,
    "user_inline": 2_048,
    "group_inline": 5_120,
    "role_inline": 10_240,
    "trust": 2_048,  # AssumeRolePolicySizeQuota default (GetAccountSummary; up to 4,096 on request)
    "session": 2_048,  # STS sessionPolicyDocumentType max 2048 (botocore sts service-2.json)
    "scp": 5_120,  # orgs_reference_limits.md "Maximum size of a policy document": SCP 5,120
}


# The condition operators (reference_policies_elements_condition_operators.md),
# canonical spelling -> family. Each may carry "IfExists" and a "ForAllValues:"
# or "ForAnyValue:" qualifier.
OPERATOR_FAMILIES = {
    **dict.fromkeys(
        (
            "StringEquals",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "StringNotEqualsIgnoreCase",
            "StringLike",
            "StringNotLike",
        ),
        "String",
    ),
    **dict.fromkeys(
        (
            "NumericEquals",
            "NumericNotEquals",
            "NumericLessThan",
            "NumericLessThanEquals",
            "NumericGreaterThan",
            "NumericGreaterThanEquals",
        ),
        "Numeric",
    ),
    **dict.fromkeys(
        (
            "DateEquals",
            "DateNotEquals",
            "DateLessThan",
            "DateLessThanEquals",
            "DateGreaterThan",
            "DateGreaterThanEquals",
        ),
        "Date",
    ),
    "Bool": "Bool",
    "BinaryEquals": "Binary",
    "IpAddress": "IpAddress",
    "NotIpAddress": "IpAddress",
    **dict.fromkeys(("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"), "Arn"),
    "Null": "Null",
}

# Families whose values may hold policy variables (reference_policies_variables.md:
# String and Arn; the operators page also allows Bool, IAM.md §1.4).
VARIABLE_FAMILIES = frozenset({"String", "Arn", "Bool"})


class Messages:
    """IAM's ``MalformedPolicyDocument`` messages and the other texts the parser raises."""

    # Recorded against IAM by moto's policy_validation.py (IAM.md §1.7, §2.2).
    SYNTAX = "Syntax errors in policy."
    VERSION = "Policy document must be version 2012-10-17 or greater."
    LEGACY = "The policy failed legacy parsing"
    SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
    ACTIONS = "Policy statement must contain actions."
    RESOURCES = "Policy statement must contain resources."
    VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
    ONE_COLON = "Actions/Condition can contain only one colon."
    VENDOR_INVALID = "Vendor {vendor} is not valid"
    ARN_FORMAT = 'Resource {resource} must be in ARN format or "*".'
    PARTITION = 'Partition "{partition}" is not valid for resource "{arn}".'
    RESOURCE_VENDOR = "Resource vendor must be fully qualified and cannot contain regexes."
    IAM_REGION = "IAM resource {resource} cannot contain region information."
    S3_REGION = "Resource {resource} can not contain region information."
    IAM_PATH = (
        'IAM resource path must either be "*" or start with user/, federated-user/, role/, '
        "group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, "
        "saml-provider/, oidc-provider/, report/, access-report/."
    )
    # Trust policies (moto IAMTrustPolicyDocumentValidator, recorded against IAM).
    TRUST_RESOURCE = "Has prohibited field Resource."
    TRUST_ACTIONS = (
        "Trust Policy statement actions can only be sts:AssumeRole, "
        "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
    )
    # CloudTrail records of real CreatePolicy calls (splunk/attack_data T1580
    # aws_iam_assume_role_policy_brute_force) and CLI transcripts.
    SID_CHARACTERS = (
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies "
        "the regular expression [0-9A-Za-z]*"
    )
    NO_PRINCIPAL = "Policy document should not specify a principal."
    PRINCIPAL_REQUIRED = "Missing required field Principal"
    # Ours: no public record of IAM's text for these.
    NOT_PRINCIPAL = "Has prohibited field NotPrincipal."
    VARIABLE = "Policy variables are not supported in {element}."
    VARIABLE_OPERATOR = "Policy variables are not supported with the {operator} condition operator."
    # Not MalformedPolicyDocument in AWS: IAM answers LimitExceeded (409) for
    # quotas and a ValidationError (400) for its API-level constraints.
    QUOTA = "Cannot exceed quota for {quota}: {limit}"
    TOO_LONG = (
        "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
        "Member must have length less than or equal to {limit}"
    )
    CHARACTERS = (
        "1 validation error detected: Value at 'policyDocument' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: " + ALLOWED_CHARACTERS + "+"
    )


class Need(Enum):
    """Whether a statement element must, may or must not appear."""

    REQUIRED = "required"
    OPTIONAL = "optional"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeRules:
    """Validation settings for one policy type."""

    #: Accepted ``Version`` values; ``None`` means the element may be absent.
    versions: frozenset[str | None]
    #: ``Principal``/``NotPrincipal``: required (resource, trust), forbidden (identity-like).
    principal: Need
    #: ``NotPrincipal`` on its own: forbidden in trust policies and SCPs.
    not_principal: Need
    #: ``Resource``/``NotResource``: required except in trust policies, where they are refused.
    resource: Need
    #: Sids limited to ``[0-9A-Za-z]`` (IAM-stored policies) or free text (resource policies).
    alphanumeric_sid: bool
    #: Trust policies may only name STS actions.
    sts_actions_only: bool
    #: Largest accepted size in characters, the quota's name, and whether
    #: whitespace counts (IAM: no; STS and Organizations APIs: the string as sent).
    size_limit: int
    size_quota: str
    size_counts_whitespace: bool


_BOTH_VERSIONS = frozenset({"2012-10-17", "2008-10-17"})
_CURRENT_ONLY = frozenset({"2012-10-17"})

# Identity policies (managed or inline): IAM rejects a missing or 2008-10-17
# Version at CreatePolicy (IAM.md §1.1); Principal is refused
# (reference_policies_elements_principal.md: "You cannot use the Principal
# element in an identity-based policy"). Size: the role-inline aggregate, the
# largest any single identity policy can be (managed is 6,144; the caller that
# knows the entity enforces its quota with SIZE_QUOTAS).
_IDENTITY = TypeRules(
    versions=_CURRENT_ONLY,
    principal=Need.FORBIDDEN,
    not_principal=Need.FORBIDDEN,
    resource=Need.REQUIRED,
    alphanumeric_sid=True,
    sts_actions_only=False,
    size_limit=SIZE_QUOTAS["role_inline"],
    size_quota="PolicySize",
    size_counts_whitespace=False,
)

_RULES = {
    PolicyType.IDENTITY: _IDENTITY,
    # A permissions boundary is a managed policy (access_policies_boundaries.md).
    PolicyType.BOUNDARY: replace(_IDENTITY, size_limit=SIZE_QUOTAS["managed"]),
    # Resource-based policies: Principal or NotPrincipal required ("Missing
    # required field Principal", S3/Kinesis); a missing Version defaults to
    # 2008-10-17 (reference_policies_elements_version.md); Sids are free text.
    # Sizes are each service's own (S3 20 KB, SQS 8 KB, ...): only IAM's hard
    # cap applies here.
    PolicyType.RESOURCE: replace(
        _IDENTITY,
        versions=_BOTH_VERSIONS | {None},
        principal=Need.REQUIRED,
        not_principal=Need.OPTIONAL,
        alphanumeric_sid=False,
        size_limit=MAX_DOCUMENT_LENGTH,
    ),
    # Role trust policies: Principal required, NotPrincipal refused
    # (reference_policies_elements_notprincipal.md: "You can't use the
    # NotPrincipal element in an IAM role trust policy"), no Resource at all,
    # STS actions only; 2008-10-17 is still accepted for trust policies.
    PolicyType.TRUST: replace(
        _IDENTITY,
        versions=_BOTH_VERSIONS,
        principal=Need.REQUIRED,
        resource=Need.FORBIDDEN,
        sts_actions_only=True,
        size_limit=SIZE_QUOTAS["trust"],
        size_quota="ACLSizePerRole",
    ),
    # Session policies passed to AssumeRole*/GetFederationToken: identity-like;
    # STS checks the string as sent (sessionPolicyDocumentType, max 2048).
    PolicyType.SESSION: replace(
        _IDENTITY,
        versions=_BOTH_VERSIONS,
        size_limit=SIZE_QUOTAS["session"],
        size_quota="SessionPolicySize",
        size_counts_whitespace=True,
    ),
    # Service control policies: Version 2012-10-17; Principal and NotPrincipal
    # not supported (orgs_manage_policies_scps_syntax.md); 5,120 characters,
    # whitespace counted when saved through the API (orgs_reference_limits.md).
    PolicyType.SCP: replace(
        _IDENTITY,
        alphanumeric_sid=False,
        size_limit=SIZE_QUOTAS["scp"],
        size_counts_whitespace=True,
    ),
}


def rules_for(policy_type: PolicyType) -> TypeRules:
    """The validation settings for ``policy_type``."""
    return _RULES[policy_type]
