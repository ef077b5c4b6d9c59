"""Raw HTTP/1.1 request text: parse it for signing, print it back.

The format is the one of the AWS signing test suite's ``request.txt``: a
request line whose target may hold raw spaces and UTF-8, ``Name:value``
header lines (the value kept as written), obs-fold continuation lines, a
blank line, then the body. CRLF and LF line ends are both accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._exceptions import InvalidRequestError

__all__ = ["RawRequest", "parse_raw_request"]

_VERSION_SUFFIX = " HTTP/1.1"


@dataclass(frozen=True, slots=True)
class RawRequest:
    """A request as method, wire target, ordered headers and body bytes."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively, or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def to_text(self) -> str:
        """The request in the same raw format (LF line ends)."""
        lines = [f"{self.method} {self.target}{_VERSION_SUFFIX}"]
        lines += [f"{name}:{value}" for name, value in self.headers]
        return "\n".join(lines) + "\n\n" + self.body.decode("utf-8", "replace")


def parse_raw_request(data: bytes | str) -> RawRequest:
    """Parse raw request text.

    Raises :class:`~sigv4kit.InvalidRequestError` with the line at fault for
    a missing request line, a header line without ``:``, or a continuation
    line before any header.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    head, sep, body = raw.partition(b"\n\n")
    if not sep:
        head, sep, body = raw.partition(b"\r\n\r\n")
        if not sep:
            head, body = raw, b""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"request head is not UTF-8: {exc}") from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise InvalidRequestError("empty request: expected 'METHOD /target HTTP/1.1'")
    request_line = lines[0].rstrip("\r")
    method, space, rest = request_line.partition(" ")
    if not space or not method:
        raise InvalidRequestError(f"bad request line {request_line!r}: expected 'METHOD target'")
    if rest.endswith(_VERSION_SUFFIX):
        target = rest[: -len(_VERSION_SUFFIX)]
    elif rest.endswith(" HTTP/1.0"):
        target = rest[: -len(" HTTP/1.0")]
    else:
        target = rest
    if not target:
        raise InvalidRequestError(f"bad request line {request_line!r}: no target")

    headers: list[list[str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if line[0] in " \t":
            if not headers:
                raise InvalidRequestError(
                    f"line {number}: continuation line {line!r} before any header"
                )
            headers[-1][1] += "\n" + line
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise InvalidRequestError(f"line {number}: bad header line {line!r}")
        headers.append([name, value])
    return RawRequest(
        method=method,
        target=target,
        headers=tuple((name, value) for name, value in headers),
        body=body,
    )
