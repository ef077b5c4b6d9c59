"""Region and service from AWS host names (endpoint patterns from the AWS endpoint docs)."""

from __future__ import annotations

import pytest

from sigv4kit import EndpointInferenceError, infer_region_service


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("s3.amazonaws.com", ("us-east-1", "s3")),
        ("my-bucket.s3.amazonaws.com", ("us-east-1", "s3")),
        ("my-bucket.s3.eu-west-1.amazonaws.com", ("eu-west-1", "s3")),
        ("s3.us-west-2.amazonaws.com", ("us-west-2", "s3")),
        ("my-bucket.s3-us-west-2.amazonaws.com", ("us-west-2", "s3")),
        ("s3-logs.s3.ap-south-1.amazonaws.com", ("ap-south-1", "s3")),
        ("my-bucket.s3.dualstack.ap-south-1.amazonaws.com", ("ap-south-1", "s3")),
        ("abc123.execute-api.eu-central-1.amazonaws.com", ("eu-central-1", "execute-api")),
        ("dynamodb.us-east-1.amazonaws.com", ("us-east-1", "dynamodb")),
        ("dynamodb.us-east-1.amazonaws.com:443", ("us-east-1", "dynamodb")),
        ("sts.us-east-2.amazonaws.com", ("us-east-2", "sts")),
        ("iam.amazonaws.com", ("us-east-1", "iam")),
        ("sts.amazonaws.com", ("us-east-1", "sts")),
        ("search-logs-abc.us-east-1.es.amazonaws.com", ("us-east-1", "es")),
        ("runtime.sagemaker.us-east-1.amazonaws.com", ("us-east-1", "sagemaker")),
        ("email.eu-west-1.amazonaws.com", ("eu-west-1", "ses")),
        ("sqs-fips.us-gov-west-1.amazonaws.com", ("us-gov-west-1", "sqs")),
        ("lambda.cn-north-1.amazonaws.com.cn", ("cn-north-1", "lambda")),
        ("abc.lambda-url.us-east-1.on.aws", ("us-east-1", "lambda")),
        ("S3.EU-WEST-1.AMAZONAWS.COM", ("eu-west-1", "s3")),
    ],
)
def test_inferred(host: str, expected: tuple[str, str]) -> None:
    assert infer_region_service(host) == expected


@pytest.mark.parametrize(
    "host", ["example.com", "127.0.0.1:8000", "amazonaws.com.evil.example", "foo.amazonaws.com"]
)
def test_not_inferable(host: str) -> None:
    with pytest.raises(EndpointInferenceError, match="--region and --service"):
        infer_region_service(host)
