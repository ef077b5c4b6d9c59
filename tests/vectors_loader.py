"""Load the AWS SigV4 / SigV4A conformance suites under tests/vectors/.

The data (Apache-2.0, see tests/vectors/INDEX.md for provenance) is used as
published; this module only reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sigv4kit

VECTORS = Path(__file__).parent / "vectors"
AWS_C_AUTH = VECTORS / "aws-c-auth"
BOTOCORE = VECTORS / "botocore-aws4"

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = datetime.fromisoformat("2015-08-30T12:36:00+00:00")


@dataclass(frozen=True)
class CrtCase:
    """One aws-c-auth case, in one signature location."""

    version: str  # "v4" or "v4a"
    name: str
    location: str  # "header" or "query"
    path: Path
    context: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.version}-{self.name}-{self.location}"

    def read(self, suffix: str) -> str:
        return (self.path / f"{self.location}-{suffix}").read_text(encoding="utf-8")

    def request_bytes(self) -> bytes:
        return (self.path / "request.txt").read_bytes()

    @property
    def credentials(self) -> sigv4kit.Credentials:
        c = self.context["credentials"]
        return sigv4kit.Credentials(c["access_key_id"], c["secret_access_key"], c.get("token"))

    @property
    def algorithm(self) -> sigv4kit.SigningAlgorithm:
        if self.version == "v4a":
            return sigv4kit.SigningAlgorithm.SIGV4A
        return sigv4kit.SigningAlgorithm.SIGV4

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.context["timestamp"].replace("Z", "+00:00"))

    def settings(self) -> sigv4kit.SigningSettings:
        ctx = self.context
        return sigv4kit.SigningSettings(
            path_normalization=(
                sigv4kit.PathNormalization.ENABLED
                if ctx["normalize"]
                else sigv4kit.PathNormalization.DISABLED
            ),
            signature_location=(
                sigv4kit.SignatureLocation.HEADERS
                if self.location == "header"
                else sigv4kit.SignatureLocation.QUERY
            ),
            session_token_mode=(
                sigv4kit.SessionTokenMode.EXCLUDE
                if ctx.get("omit_session_token")
                else sigv4kit.SessionTokenMode.INCLUDE
            ),
            payload_checksum=(
                sigv4kit.PayloadChecksumKind.X_AMZ_CONTENT_SHA256
                if ctx["sign_body"]
                else sigv4kit.PayloadChecksumKind.NONE
            ),
        )

    def public_key_xy(self) -> tuple[int, int]:
        data = json.loads((self.path / "public-key.json").read_text())
        return int(data["X"], 16), int(data["Y"], 16)


def crt_cases() -> Iterator[CrtCase]:
    """Every complete aws-c-auth case (the two v4a stubs have no outputs)."""
    for version in ("v4", "v4a"):
        for path in sorted((AWS_C_AUTH / version).iterdir()):
            if not (path / "header-canonical-request.txt").exists():
                continue
            context = json.loads((path / "context.json").read_text())
            for location in ("header", "query"):
                yield CrtCase(version, path.name, location, path, context)


@dataclass(frozen=True)
class BotocoreCase:
    """One case of botocore's aws4_testsuite (header signing only)."""

    name: str
    path: Path

    def read(self, ext: str) -> str:
        return (self.path / f"{self.path.name}.{ext}").read_text(encoding="utf-8")

    def request_bytes(self) -> bytes:
        return (self.path / f"{self.path.name}.req").read_bytes()

    @property
    def token(self) -> str | None:
        """The session token, found as botocore's own test finds it."""
        for source in (self.read("creq"), self.read("sreq")):
            for line in source.splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "x-amz-security-token":
                    return value.strip()
        return None

    @property
    def token_after_signing(self) -> bool:
        return self.name.endswith("post-sts-header-after")


def botocore_cases() -> Iterator[BotocoreCase]:
    for req in sorted(BOTOCORE.rglob("*.req")):
        yield BotocoreCase(str(req.parent.relative_to(BOTOCORE)), req.parent)


def parse_signed_request(text: str) -> sigv4kit.RawRequest:
    return sigv4kit.parse_raw_request(text.encode("utf-8"))
