from __future__ import annotations

from datetime import UTC, datetime

import sigv4kit


def test_get_vanilla_matches_published_signature() -> None:
    result = sigv4kit.sign(
        "GET",
        "/",
        [("Host", "example.amazonaws.com")],
        credentials=sigv4kit.Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region="us-east-1",
        service="service",
        now=datetime(2015, 8, 30, 12, 36, tzinfo=UTC),
    )
    assert result.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
