"""Colour only on a terminal, for every command that prints for humans."""

from __future__ import annotations

import io
from pathlib import Path

from sigv4kit.cli._main import main

VECTORS = Path(__file__).parent / "vectors" / "aws-c-auth" / "v4" / "get-vanilla"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(stdout: io.StringIO, *argv: str, stdin: bytes = b"") -> str:
    main(list(argv), stdin=io.BytesIO(stdin), stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


ERROR = (
    b"<Error><Code>SignatureDoesNotMatch</Code><Message>m</Message>"
    b"<CanonicalRequest>GET\n/x\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
    b"host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    b"</CanonicalRequest></Error>"
)


def test_verify_and_explain_colour_only_on_a_terminal() -> None:
    verify = (
        "verify",
        str(VECTORS / "header-signed-request.txt"),
        "--secret-access-key",
        SECRET,
        "--time",
        "2015-08-30T12:36:00Z",
    )
    assert "\x1b[" not in run(io.StringIO(), *verify)
    assert "\x1b[1m" in run(Terminal(), *verify)
    explain = ("explain", "-", "--request", str(VECTORS / "header-signed-request.txt"))
    assert "\x1b[" not in run(io.StringIO(), *explain, stdin=ERROR)
    assert "\x1b[31m" in run(Terminal(), *explain, stdin=ERROR)


def test_top_level_help_documents_the_exit_codes() -> None:
    text = run(io.StringIO(), "--help")
    for line in ("0  ok", "1  error", "2  usage", "3  bad input", "4  aws error"):
        assert line in text
