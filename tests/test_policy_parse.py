"""Policy.parse: IAM's MalformedPolicyDocument messages, IAM's check order, per-type rules.

Expected messages are written out literally from their sources, never taken
from the code under test:

* [moto] getmoto/moto ``moto/iam/policy_validation.py`` and
  ``tests/test_iam/test_iam_policies.py``: the messages and the check order as
  recorded against IAM (IAM.md §1.7, §2.2).
* [trail] CloudTrail records of real CreatePolicy calls, splunk/attack_data
  ``T1580/aws_iam_assume_role_policy_brute_force`` (SID characters, ARN format).
* [cli] AWS CLI transcripts of CreatePolicy / CreateRole / PutBucketPolicy
  errors ("Policy document should not specify a principal.", "Missing required
  field Principal").
* [botocore] ``iam/2010-05-08`` and ``sts/2011-06-15`` service models
  (policyDocumentType max 131072 and its character pattern; LimitExceeded 409).
* [quotas] IAM User Guide ``reference_iam-quotas.md`` (6,144 managed, 2,048
  trust, role inline 10,240; whitespace not counted), AWS Organizations
  ``orgs_reference_limits.md`` (SCP 5,120).
* [example] ``awscli/examples/iam/simulate-custom-policy.rst`` (positions).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sigv4kit.middleware.iam.policy import (
    SIZE_QUOTAS,
    Condition,
    MalformedPolicyDocument,
    Policy,
    PolicyDocumentValidationError,
    PolicySizeQuotaExceeded,
    PolicyType,
    Position,
    PrincipalSpec,
    policy_size,
)

V12 = "2012-10-17"
SYNTAX = "Syntax errors in policy."
VERSION = "Policy document must be version 2012-10-17 or greater."
LEGACY = "The policy failed legacy parsing"
SID_UNIQUE = "Statement IDs (SID) in a single policy must be unique."
ACTIONS = "Policy statement must contain actions."
RESOURCES = "Policy statement must contain resources."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
ONE_COLON = "Actions/Condition can contain only one colon."
IAM_PATH = (
    'IAM resource path must either be "*" or start with user/, federated-user/, role/, group/, '
    "instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, "
    "oidc-provider/, report/, access-report/."
)


def doc(*statements: dict[str, object], version: str | None = V12, **top: object) -> str:
    body: dict[str, object] = {} if version is None else {"Version": version}
    body.update(top)
    body["Statement"] = list(statements)
    return json.dumps(body)


def allow(**elements: object) -> dict[str, object]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **elements}


def message(text: str | bytes, policy_type: PolicyType = PolicyType.IDENTITY) -> str:
    with pytest.raises(MalformedPolicyDocument) as info:
        Policy.parse(text, policy_type=policy_type)
    assert str(info.value) == info.value.message
    return info.value.message


# -- one test per IAM message ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("{", id="not JSON"),  # [moto] json.loads fails
        pytest.param("null", id="not an object"),  # [cli] iamy #74: --policy-document null
        pytest.param(json.dumps({"Version": V12}), id="no Statement"),
        pytest.param(doc(), id="empty Statement list"),
        pytest.param(doc(allow(Effect="Maybe")), id="unknown Effect"),  # IAM.md §1.7
        pytest.param(doc(allow(Action=["s3:GetObject", 5])), id="number in Action"),
        pytest.param(doc(allow(Bogus="x")), id="unknown statement element"),
        pytest.param(doc(allow(), Extra="x"), id="unknown top-level element"),
        pytest.param(doc(allow(NotAction="s3:*")), id="Action and NotAction"),
        pytest.param(doc(allow(Condition={"StringEqualz": {"a:b": "c"}})), id="unknown operator"),
        pytest.param(doc(allow(), version="2010-01-01"), id="unknown Version value"),
        pytest.param(doc(allow(Sid=7)), id="number as Sid"),
    ],
)
def test_syntax_errors(text: str) -> None:
    assert message(text) == SYNTAX


def test_version_is_required_for_identity_policies() -> None:
    # [moto] test_iam_policies.py: a missing Version and "2008-10-17" both fail CreatePolicy.
    assert message(doc(allow(), version=None)) == VERSION
    assert message(doc(allow(), version="2008-10-17")) == VERSION


@pytest.mark.parametrize("effect", ["aLLow", "denY"])
def test_effect_is_case_sensitive_at_legacy_parse(effect: str) -> None:
    # IAM.md §1.7: "denY"/"aLLow" fail legacy parsing, "invalid" is a syntax error.
    assert message(doc(allow(Effect=effect))) == LEGACY


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2019-13-01T00:00:00Z",
        "2019-01-01T25:00:00Z",
        "2019-01-01T10:61:00Z",
        "1" * 5000,
    ],
)
def test_bad_date_values_fail_legacy_parsing(value: str) -> None:
    # [moto] _legacy_parse_date_condition_value: dates are ISO 8601 or epoch seconds.
    condition = {"DateGreaterThan": {"aws:CurrentTime": value}}
    assert message(doc(allow(Condition=condition))) == LEGACY


@pytest.mark.parametrize(
    "value", ["2018-08-16T12:00:00Z", "2018-08-16", "2018-08-16T12:00:00.123+02:00", 1534420800]
)
def test_good_date_values_pass(value: object) -> None:
    condition = {"DateLessThan": {"aws:CurrentTime": value}}
    Policy.parse(doc(allow(Condition=condition)))


@pytest.mark.parametrize("resource", ["arn:aws::s3:bucket", "arn:aws::::*"])
def test_resource_shape_fails_legacy_parsing(resource: str) -> None:
    # [moto] _legacy_parse_resource_like: a short ARN with "::" or an empty service.
    assert message(doc(allow(Resource=resource))) == LEGACY


def test_sids_must_be_unique() -> None:
    # [moto]; kubernetes/kops #4951 shows IAM's answer.
    assert message(doc(allow(Sid="A"), allow(Sid="A"))) == SID_UNIQUE


def test_empty_sids_are_not_compared() -> None:
    Policy.parse(doc(allow(Sid=""), allow(Sid="")))


def test_identity_sids_are_alphanumeric() -> None:
    # [trail] 2021-02-24 CreatePolicy with "Sid": "Atomic_Red_Team".
    assert message(doc(allow(Sid="Atomic_Red_Team"))) == (
        "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies "
        "the regular expression [0-9A-Za-z]*"
    )


@pytest.mark.parametrize("action", [[], None])
def test_statement_must_contain_actions(action: object) -> None:
    statement = allow(Action=action) if action is not None else allow()
    if action is None:
        del statement["Action"]
    assert message(doc(statement)) == ACTIONS


@pytest.mark.parametrize("resource", [[], None])
def test_statement_must_contain_resources(resource: object) -> None:
    statement = allow(Resource=resource)
    if resource is None:
        del statement["Resource"]
    assert message(doc(statement)) == RESOURCES


@pytest.mark.parametrize("action", ["GetObject", ""])
def test_actions_need_a_vendor(action: str) -> None:
    assert message(doc(allow(Action=action))) == VENDOR  # [moto]


def test_actions_have_one_colon() -> None:
    assert message(doc(allow(Action="s3:Get:Object"))) == ONE_COLON  # [moto]


def test_vendor_characters() -> None:
    assert message(doc(allow(Action="s_3:GetObject"))) == "Vendor s_3 is not valid"  # [moto]


def test_condition_keys_need_a_vendor() -> None:
    # The message names Actions/Conditions: a condition key without "service:" fails alike.
    condition = {"StringEquals": {"SourceVpc": "vpc-1"}}
    assert message(doc(allow(Condition=condition))) == VENDOR


def test_resource_must_be_an_arn() -> None:
    # [trail] 2021-03-13 CreatePolicy from Terraform with an ECR registry URI.
    uri = "174313347505.dkr.ecr.us-west-2.amazonaws.com/mhart-experimental"
    assert message(doc(allow(Resource=uri))) == f'Resource {uri} must be in ARN format or "*".'


@pytest.mark.parametrize(
    ("resource", "arn"),
    [
        ("arn:aws-cn:s3:::bucket", "arn:aws-cn:s3:::bucket"),
        ("arn:foo:bar", "arn:foo:bar:*:*:*"),  # [moto] missing segments shown as "*"
    ],
)
def test_partition_must_be_this_one(resource: str, arn: str) -> None:
    partition = resource.split(":")[1]
    expected = f'Partition "{partition}" is not valid for resource "{arn}".'
    assert message(doc(allow(Resource=resource))) == expected


def test_resource_vendor_must_be_qualified() -> None:
    expected = "Resource vendor must be fully qualified and cannot contain regexes."
    assert message(doc(allow(Resource="arn:aws"))) == expected  # [moto]


def test_iam_and_s3_resources_have_no_region() -> None:
    # [moto] SERVICE_TYPE_REGION_INFORMATION_ERROR_ASSOCIATIONS
    iam = "arn:aws:iam:us-east-1:123456789012:user/alice"
    s3 = "arn:aws:s3:us-east-1::bucket"
    assert (
        message(doc(allow(Resource=iam)))
        == f"IAM resource {iam} cannot contain region information."
    )
    assert message(doc(allow(Resource=s3))) == f"Resource {s3} can not contain region information."


def test_iam_resource_paths() -> None:
    assert message(doc(allow(Resource="arn:aws:iam::123456789012:bucket/x"))) == IAM_PATH
    Policy.parse(doc(allow(Resource="arn:aws:iam::123456789012:role/*")))
    Policy.parse(doc(allow(Resource="arn:aws:iam::*:*")))


def test_identity_policies_refuse_principals() -> None:
    # [cli] "Policy document should not specify a principal." on CreatePolicy.
    for element in ("Principal", "NotPrincipal"):
        statement = allow(**{element: {"AWS": "123456789012"}})
        assert message(doc(statement)) == "Policy document should not specify a principal."


# -- trust policies --------------------------------------------------------------------


def trust(**elements: object) -> dict[str, object]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
        **elements,
    }


def test_trust_policy_has_prohibited_field_resource() -> None:
    # [moto] IAMTrustPolicyDocumentValidator; the IAM console shows the same text.
    for element in ("Resource", "NotResource"):
        text = doc(trust(**{element: "*"}))
        assert message(text, PolicyType.TRUST) == "Has prohibited field Resource."


def test_trust_policy_actions_are_sts_actions() -> None:
    expected = (
        "Trust Policy statement actions can only be sts:AssumeRole, "
        "sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
    )
    assert message(doc(trust(Action="s3:GetObject")), PolicyType.TRUST) == expected


def test_trust_policy_checks_actions_before_resource() -> None:
    # [moto] the action check runs first; a statement with both problems reports it.
    text = doc(trust(Action="s3:GetObject", Resource="*"))
    assert message(text, PolicyType.TRUST).startswith("Trust Policy statement actions")


def test_trust_policy_needs_a_principal() -> None:
    statement = trust()
    del statement["Principal"]
    assert message(doc(statement), PolicyType.TRUST) == "Missing required field Principal"


def test_trust_policy_refuses_not_principal() -> None:
    # reference_policies_elements_notprincipal.md: not in role trust policies (message ours).
    statement = trust()
    statement["NotPrincipal"] = statement.pop("Principal")
    assert message(doc(statement), PolicyType.TRUST) == "Has prohibited field NotPrincipal."


def test_trust_policy_accepts_2008_version_and_sts_actions() -> None:
    text = doc(trust(Action=["sts:AssumeRole", "sts:TagSession"]), version="2008-10-17")
    policy = Policy.parse(text, policy_type=PolicyType.TRUST)
    assert policy.version == "2008-10-17"
    assert policy.statements[0].resources is None
    assert policy.statements[0].not_resources is None
    assert policy.statements[0].principal == PrincipalSpec(
        any=False, service=("ec2.amazonaws.com",)
    )


# -- resource-based policies, SCPs, boundaries, sessions -----------------------------


def test_resource_policy_needs_a_principal() -> None:
    # [cli] S3 PutBucketPolicy: "Missing required field Principal".
    assert message(doc(allow(), version=None), PolicyType.RESOURCE) == (
        "Missing required field Principal"
    )


def test_resource_policy_accepts_missing_version_free_sids_and_not_principal() -> None:
    statement = allow(Sid="allow everyone but bob", NotPrincipal={"AWS": ["111122223333"]})
    policy = Policy.parse(doc(statement, version=None, Id="x-1"), policy_type=PolicyType.RESOURCE)
    assert (policy.version, policy.id) == (None, "x-1")
    assert policy.statements[0].sid == "allow everyone but bob"
    assert policy.statements[0].not_principal == PrincipalSpec(any=False, aws=("111122223333",))


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["1", "*"]}])
def test_any_principal(principal: object) -> None:
    policy = Policy.parse(doc(allow(Principal=principal)), policy_type=PolicyType.RESOURCE)
    spec = policy.statements[0].principal
    assert spec is not None
    assert spec.any


@pytest.mark.parametrize("principal", ["arn:aws:iam::1:root", {}, {"Group": "x"}, {"AWS": 1}])
def test_malformed_principals_are_syntax_errors(principal: object) -> None:
    assert message(doc(allow(Principal=principal)), PolicyType.RESOURCE) == SYNTAX


@pytest.mark.parametrize("policy_type", [PolicyType.SCP, PolicyType.BOUNDARY, PolicyType.SESSION])
def test_identity_like_types_refuse_principals(policy_type: PolicyType) -> None:
    text = doc(allow(Principal="*"))
    assert message(text, policy_type) == "Policy document should not specify a principal."


def test_scp_requires_version_2012() -> None:
    assert message(doc(allow(), version="2008-10-17"), PolicyType.SCP) == VERSION


def test_session_policy_accepts_2008() -> None:
    Policy.parse(doc(allow(), version="2008-10-17"), policy_type=PolicyType.SESSION)


# -- check order: a policy with two problems reports the earlier check -----------------


@pytest.mark.parametrize(
    ("statements", "version", "expected"),
    [
        # syntax before version
        ([allow(Effect="Maybe")], None, SYNTAX),
        # version before legacy parse
        ([allow(Effect="aLLow")], "2008-10-17", VERSION),
        # legacy parse before unique Sids
        ([allow(Sid="A", Effect="denY"), allow(Sid="A")], V12, LEGACY),
        # unique Sids before actions
        ([allow(Sid="A"), allow(Sid="A", Action=[])], V12, SID_UNIQUE),
        # actions before resources
        ([allow(Action=[], Resource=[])], V12, ACTIONS),
        # resources before resource formats
        ([allow(Resource="bucket"), allow(Resource=[])], V12, RESOURCES),
        # resource formats before action vendors
        (
            [allow(Resource="bucket", Action="GetObject")],
            V12,
            'Resource bucket must be in ARN format or "*".',
        ),
        # action vendors before condition keys
        ([allow(Action="GetObject", Condition={"Bool": {"x": "true"}})], V12, VENDOR),
        # legacy parse (bad date) before a resource-format error
        (
            [allow(Resource="bucket", Condition={"DateEquals": {"aws:CurrentTime": "x"}})],
            V12,
            LEGACY,
        ),
    ],
)
def test_check_order(
    statements: list[dict[str, object]], version: str | None, expected: str
) -> None:
    assert message(doc(*statements, version=version)) == expected


def test_first_resource_error_is_reported() -> None:
    text = doc(allow(Resource=["one", "arn:aws-cn:s3:::b"]))
    assert message(text) == 'Resource one must be in ARN format or "*".'


# -- duplicates, variables, operators -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}',
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny",'
        '"Action":"s3:*","Resource":"*"}}',
        # A second StringEquals would silently replace the first in IAM (terraform #33026).
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",'
        '"Condition":{"StringEquals":{"a:b":"1"},"StringEquals":{"a:c":"2"}}}}',
    ],
)
def test_duplicate_keys_are_refused(text: str) -> None:
    assert message(text) == SYNTAX


def test_unknown_operator_with_empty_block_is_accepted() -> None:
    # [moto] _validate_condition_syntax: only a non-empty unknown block is a syntax error.
    policy = Policy.parse(doc(allow(Condition={"SomethingNew": {}})))
    assert policy.statements[0].conditions == ()


@pytest.mark.parametrize(
    ("operator", "allowed"),
    [
        ("StringLike", True),
        ("ArnLike", True),
        ("Bool", True),
        ("NumericEquals", False),
        ("DateGreaterThan", False),
        ("IpAddress", False),
        ("BinaryEquals", False),
        ("Null", False),
    ],
)
def test_policy_variables_only_in_string_arn_bool_values(operator: str, allowed: bool) -> None:
    # reference_policies_variables.md (IAM.md §1.4). Date values fail legacy parsing first.
    text = doc(allow(Condition={operator: {"aws:x": "${aws:username}"}}))
    if allowed:
        Policy.parse(text)
    elif operator.startswith("Date"):
        assert message(text) == LEGACY
    else:
        expected = f"Policy variables are not supported with the {operator} condition operator."
        assert message(text) == expected


def test_policy_variables_refused_in_actions_and_principals() -> None:
    assert message(doc(allow(Action="s3:Get${Object}"))) == (
        "Policy variables are not supported in Action."
    )
    text = doc(allow(Principal={"AWS": "${aws:userid}"}))
    assert message(text, PolicyType.RESOURCE) == "Policy variables are not supported in Principal."


def test_policy_variables_are_literal_text_before_2012() -> None:
    # Without Version 2012-10-17 "${...}" is plain text (reference_policies_variables.md).
    text = doc(allow(Condition={"NumericEquals": {"aws:x": "${a}"}}, Principal="*"), version=None)
    Policy.parse(text, policy_type=PolicyType.RESOURCE)


def test_variables_in_resources_are_fine() -> None:
    Policy.parse(doc(allow(Resource="arn:aws:s3:::bucket/home/${aws:username}/*")))


# -- the model: statements, conditions, normalization ----------------------------------


def test_statement_as_single_object() -> None:
    text = json.dumps({"Version": V12, "Statement": allow(Sid="One")})
    (statement,) = Policy.parse(text).statements
    assert (statement.index, statement.sid, statement.actions) == (0, "One", ("s3:GetObject",))


def test_not_elements_fill_their_own_fields() -> None:
    statement = {"Effect": "Deny", "NotAction": ["iam:*"], "NotResource": "arn:aws:s3:::b"}
    (parsed,) = Policy.parse(doc(statement)).statements
    assert parsed.actions is None
    assert parsed.not_actions == ("iam:*",)
    assert parsed.resources is None
    assert parsed.not_resources == ("arn:aws:s3:::b",)


def test_conditions_are_split_per_operator_and_key() -> None:
    condition = {
        "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"], "aws:x": "y"},
        "NumericLessThan": {"s3:max-keys": [10, 1.50]},
        "Bool": {"aws:SecureTransport": False},
    }
    # json.dumps writes 1.50 as 1.5: write the number text by hand.
    text = doc(allow(Condition=condition)).replace("1.5]", "1.50]")
    conditions = Policy.parse(text).statements[0].conditions
    any_like = ("ForAnyValue:StringLikeIfExists", "StringLike", "ForAnyValue", True)
    assert [
        (c.operator, c.base, c.qualifier, c.if_exists, c.key, c.values) for c in conditions
    ] == [
        (*any_like, "aws:TagKeys", ("a*", "b")),
        (*any_like, "aws:x", ("y",)),
        ("NumericLessThan", "NumericLessThan", "", False, "s3:max-keys", ("10", "1.50")),
        ("Bool", "Bool", "", False, "aws:SecureTransport", ("false",)),
    ]
    assert isinstance(conditions[0], Condition)
    assert all(type(v) is str for c in conditions for v in c.values)


def test_policy_keeps_text_type_and_id() -> None:
    text = doc(allow())
    policy = Policy.parse(
        text.encode(), policy_type=PolicyType.IDENTITY, policy_id="PolicyInputList.1"
    )
    assert (policy.text, policy.policy_id, policy.policy_type) == (
        text,
        "PolicyInputList.1",
        PolicyType.IDENTITY,
    )
    assert "Statement" not in repr(policy).split("statements=")[0]  # text stays out of repr


# -- positions ------------------------------------------------------------------------


def test_positions_match_the_aws_cli_example() -> None:
    # [example] simulate-custom-policy: StartPosition {1, 38}, EndPosition {1, 167}.
    text = (
        '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*",'
        '"Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'
    )
    (statement,) = Policy.parse(text).statements
    assert (statement.start, statement.end) == (Position(1, 38), Position(1, 167))


def test_positions_over_several_lines() -> None:
    # Counted by hand: the second statement opens on line 5 at column 5 ("    {"),
    # so the position after the brace is column 6; it closes on line 8, column 5.
    text = (
        '{\r\n  "Version": "2012-10-17",\r\n  "Statement": [\r\n'
        '    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},\n'
        '    {\n      "Effect": "Deny",\n      "Action": "iam:*", "Resource": "*"\n'
        "    }\n  ]\n}"
    )
    first, second = Policy.parse(text).statements
    assert (first.start, first.end) == (Position(4, 6), Position(4, 59))
    assert (second.start, second.end) == (Position(5, 6), Position(8, 6))


def test_positions_skip_braces_inside_strings() -> None:
    text = (
        '{"Version":"2012-10-17","Id":"{[","Statement":[{"Sid":"","Effect":"Allow",'
        '"Action":"s3:*","Resource":"arn:aws:s3:::b/}"}]}'
    )
    (statement,) = Policy.parse(text).statements
    assert statement.start == Position(1, text.index('[{"Sid') + 3)
    assert statement.end == Position(1, len(text) - 1)


# -- size, characters, hostile input ---------------------------------------------------


def padded(size: int) -> str:
    """An identity policy of exactly ``size`` non-whitespace characters."""
    base = doc(allow(Sid=""))
    filler = size - len(base.replace(" ", ""))
    return base.replace('"Sid": ""', '"Sid": "' + "A" * filler + '"')


def test_size_quota_ignores_whitespace() -> None:
    # [quotas] role inline 10,240 is the largest identity policy; whitespace not counted.
    Policy.parse(padded(10_240))
    Policy.parse(padded(10_240).replace(",", ",\n        "))
    with pytest.raises(PolicySizeQuotaExceeded) as info:
        Policy.parse(padded(10_241))
    assert (info.value.code, info.value.status) == ("LimitExceeded", 409)  # [botocore]
    assert info.value.message == "Cannot exceed quota for PolicySize: 10240"


@pytest.mark.parametrize(
    ("policy_type", "limit", "quota"),
    [(PolicyType.BOUNDARY, 6_144, "PolicySize"), (PolicyType.TRUST, 2_048, "ACLSizePerRole")],
)
def test_size_quota_per_type(policy_type: PolicyType, limit: int, quota: str) -> None:
    text = padded(limit + 1)
    assert message(text, policy_type) == f"Cannot exceed quota for {quota}: {limit}"


def test_scp_and_session_sizes_count_whitespace() -> None:
    # [quotas] SCP 5,120 as saved through the API; [botocore] session policy max 2048.
    text = doc(allow()) + " " * 5_120
    assert message(text, PolicyType.SCP) == "Cannot exceed quota for PolicySize: 5120"
    text = doc(allow()) + " " * 2_048
    assert message(text, PolicyType.SESSION) == "Cannot exceed quota for SessionPolicySize: 2048"


def test_hard_length_cap() -> None:
    # [botocore] policyDocumentType max 131072; checked before any parsing.
    text = doc(allow(), version=None) + " " * 131_072
    with pytest.raises(PolicyDocumentValidationError) as info:
        Policy.parse(text, policy_type=PolicyType.RESOURCE)
    assert info.value.code == "ValidationError"
    assert info.value.message.endswith("Member must have length less than or equal to 131072")


@pytest.mark.parametrize(
    "text",
    [
        doc(allow(Sid="a\x00b")),
        doc(allow(Resource="arn:aws:s3:::bucket/\u20ac")),
        "\ufeff" + doc(allow()),
        doc(allow()) + "\x0b",
    ],
)
def test_characters_outside_the_allowed_range(text: str) -> None:
    # [quotas] U+0009, U+000A, U+000D and U+0020-U+00FF only; json.dumps keeps \x00 escaped,
    # so write the raw character in.
    raw = text.replace("\\u0000", "\x00").replace("\\u20ac", "\u20ac")
    with pytest.raises(PolicyDocumentValidationError) as info:
        Policy.parse(raw)
    assert info.value.message.endswith(r"pattern: [\u0009\u000A\u000D\u0020-\u00FF]+")


def test_latin1_characters_are_allowed() -> None:
    Policy.parse(doc(allow(Resource="arn:aws:s3:::caf\u00e9")).replace("\\u00e9", "\u00e9"))


@pytest.mark.parametrize(
    "text",
    [
        b"\xff\xfe{}",  # not UTF-8
        b'{"Version": "2012-10-17", "Statement": "\xe9"}',  # Latin-1 byte, not UTF-8
        "[" * 60_000 + "]" * 60_000,  # deeper than the interpreter's recursion limit
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        doc(allow(Action=["s3:GetObject", None])),
        doc(allow(Resource={"arn": "x"})),
        doc(allow(Condition={"StringEquals": {"a:b": [["nested"]]}})),
        doc(allow(Condition={"StringEquals": {"a:b": None}})),
        doc(allow(Condition={"StringEquals": "a:b"})),
        doc(allow(Condition=[])),
        json.dumps({"Version": V12, "Statement": [allow(), "text"]}),
        json.dumps({"Version": V12, "Statement": 42}),
        json.dumps({"Version": 2012, "Statement": [allow()]}),
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",'
        '"Condition":{"NumericLessThan":{"s3:max-keys":NaN}}}]}',
        "",
        " ",
    ],
)
def test_hostile_input_is_a_syntax_error(text: str | bytes) -> None:
    # Resource policies have no quota below the 131,072 cap, so deep nesting reaches the parser.
    assert message(text, PolicyType.RESOURCE) == SYNTAX


def test_non_text_input_is_refused() -> None:
    with pytest.raises(MalformedPolicyDocument):
        Policy.parse(42)  # type: ignore[arg-type]


def test_huge_epoch_and_numbers_do_not_crash() -> None:
    big = "9" * 4_500  # beyond int()'s default digit limit
    condition = {"NumericLessThan": {"aws:x": 1}, "DateLessThan": {"aws:CurrentTime": big}}
    text = doc(allow(Condition=condition)).replace(": 1}", ": " + big + "}")
    assert message(text) == LEGACY


# -- fuzzing: any input either parses or raises MalformedPolicyDocument ---------------

_LATIN1 = st.characters(min_codepoint=0, max_codepoint=0x17F)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(_LATIN1, max_size=12),
    st.sampled_from(["*", "s3:GetObject", "arn:aws:s3:::b/*", "Allow", "Deny", "aws:x", "${a}"]),
)
_KEYS = st.one_of(
    st.sampled_from(
        [
            "Version",
            "Statement",
            "Id",
            "Sid",
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Principal",
            "NotPrincipal",
            "Condition",
            "AWS",
            "StringEquals",
            "ForAllValues:StringLike",
            "DateEquals",
            "NullIfExists",
            "aws:SourceIp",
        ]
    ),
    st.text(_LATIN1, max_size=8),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=6)),
    max_leaves=30,
)


def _survives(text: str | bytes, policy_type: PolicyType) -> None:
    """Parsing gives a Policy or a MalformedPolicyDocument with a message; nothing else."""
    outcome: Policy | MalformedPolicyDocument
    try:
        outcome = Policy.parse(text, policy_type=policy_type)
    except MalformedPolicyDocument as exc:
        outcome = exc
    if isinstance(outcome, Policy):
        assert outcome.statements
    else:
        assert outcome.message
        assert str(outcome) == outcome.message


@settings(max_examples=400, deadline=None)
@given(value=_JSON, policy_type=st.sampled_from(PolicyType))
def test_fuzz_json_shapes(value: object, policy_type: PolicyType) -> None:
    _survives(json.dumps({"Version": V12, "Statement": value}), policy_type)
    _survives(json.dumps(value), policy_type)


@settings(max_examples=300, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=400),
    insert=st.text(st.sampled_from('{}[]":,\\ \x00\xe9tfn0-'), max_size=4),
    policy_type=st.sampled_from(PolicyType),
)
def test_fuzz_mutated_text(cut: int, insert: str, policy_type: PolicyType) -> None:
    base = doc(
        allow(Sid="A", Condition={"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}),
        allow(Principal={"AWS": "*"}, NotResource=["arn:aws:iam::1:user/x"], Resource=None),
    ).replace(', "Resource": null', "")
    text = base[:cut] + insert + base[cut:]
    _survives(text, policy_type)
    _survives(text.encode("latin-1"), policy_type)


def test_policy_size_and_quotas_for_the_caller() -> None:
    # [quotas] whitespace is not counted; the aggregate inline quotas are the caller's.
    assert policy_size('{ "a" :\t"b c"\r\n}') == 10  # {"a":"bc"}
    assert SIZE_QUOTAS == {
        "managed": 6_144,
        "user_inline": 2_048,
        "group_inline": 5_120,
        "role_inline": 10_240,
        "trust": 2_048,
        "session": 2_048,
        "scp": 5_120,
    }
