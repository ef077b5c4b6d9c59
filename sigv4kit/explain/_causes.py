"""The causes: each compares one part of the service's canonical request (or string to
sign) with ours and names what differs in :class:`Cause` terms."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import unquote

from ..canonical._diagnostics import (
    LineDiff,
    same_line,
    split_lines,
)
from ._model import Cause, Finding

__all__: list[str] = []


_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")


def _headers_block(text: str) -> dict[str, str]:
    lines = split_lines(text)
    block: dict[str, str] = {}
    for line in lines[3:-3]:
        name, colon, value = line.partition(":")
        if colon:
            block[name] = value
    return block


def _pairs(query: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in query.split("&") if query else []:
        key, _, value = piece.partition("=")
        pairs.append((key, value))
    return pairs


def _path_findings(server: str, ours: str) -> list[Finding]:
    if server.replace("%25", "%") == ours or ours.replace("%25", "%") == server:
        who = (
            "the service percent-encoded the path twice, we once"
            if "%25" in server
            else "we percent-encoded the path twice, the service once"
        )
        return [
            Finding(
                cause=Cause.PATH_ENCODING,
                text=(
                    f"path encoding: {who}. "
                    "AWS services other than S3 encode each path segment twice "
                    "(SigningSettings()), S3 and S3-compatible stores once "
                    "(SigningSettings.s3(), --s3)."
                ),
            )
        ]
    if unquote(server) != unquote(ours) and (
        "/." in server + ours or "//" in server + ours
    ):
        return [
            Finding(
                cause=Cause.PATH_NORMALIZATION,
                text=(
                    "path normalization: one side removed '.', '..' or empty segments. "
                    "S3 signs the path as sent (no normalization, --s3); other services "
                    "normalize it. Also check that no client library or proxy collapsed '//'."
                ),
            )
        ]
    if unquote(server) == unquote(ours):
        return [
            Finding(
                cause=Cause.PATH_ENCODING,
                text=(
                    "path encoding: the same characters, escaped differently "
                    f"({server!r} against our {ours!r}). Characters such as !*'()@:+ "
                    "or non-ASCII must be percent-encoded exactly as the service does: "
                    "sign the path exactly as it is sent on the wire."
                ),
            )
        ]
    if "+" in ours and unquote(server) == unquote(ours).replace("+", " "):
        return [
            Finding(
                cause=Cause.PATH_ENCODING,
                text="path: a raw '+' in the path was read as a space; encode it as %2B.",
            )
        ]
    return [
        Finding(
            cause=Cause.PATH_CHANGED,
            text=(
                f"path: the service saw {server!r}, we signed {ours!r}: a proxy, "
                "load balancer or API stage prefix rewrote the path after signing."
            ),
        )
    ]


def _query_findings(server: str, ours: str) -> list[Finding]:
    sp, op = _pairs(server), _pairs(ours)
    findings: list[Finding] = []
    if sorted(sp) == sorted(op):
        return [
            Finding(
                cause=Cause.QUERY_ORDER,
                text=(
                    "query order: the same parameters, sorted differently. The canonical "
                    "query is sorted by encoded name, then by encoded value "
                    "('id' < 'id-type', duplicates sorted by value)."
                ),
            )
        ]
    skeys, okeys = [k for k, _ in sp], [k for k, _ in op]
    if set(skeys) == set(okeys) and (
        len(skeys) != len(set(skeys)) or len(okeys) != len(set(okeys))
    ):
        findings.append(
            Finding(
                cause=Cause.QUERY_DUPLICATES,
                text=(
                    "query duplicates: a parameter repeated in the query was kept, dropped "
                    "or merged differently. Every occurrence is signed, sorted by value."
                ),
            )
        )
    def spaces(value: str) -> str:
        return value.replace("%20", " ").replace("%2B", " ").replace("+", " ")

    server_values = {k: sorted(v for key, v in sp if key == k) for k in skeys}
    plus = any(
        vs != vo and spaces(vs) == spaces(vo)
        for k in set(skeys) & set(okeys)
        for vs, vo in zip(server_values[k], sorted(v for key, v in op if key == k), strict=False)
    )
    if plus:
        findings.append(
            Finding(
                cause=Cause.QUERY_PLUS,
                text=(
                    "query '+': a '+' was read as a space (%20) on one side and as a "
                    "plus sign (%2B) on the other. In AWS query strings a literal '+' is "
                    "a plus sign; send a space as %20 and a plus as %2B."
                ),
            )
        )
    elif sorted(unquote(k) + "=" + unquote(v) for k, v in sp) == sorted(
        unquote(k) + "=" + unquote(v) for k, v in op
    ):
        findings.append(
            Finding(
                cause=Cause.QUERY_ENCODING,
                text=(
                    "query encoding: the same parameters, escaped differently. Every "
                    "character but A-Z a-z 0-9 - _ . ~ is percent-encoded once, "
                    "including '/', '=', ',' and ':' (an already-encoded %2C must not "
                    "become %252C)."
                ),
            )
        )
    if not findings:
        findings.append(
            Finding(
                cause=Cause.QUERY_CHANGED,
                text=(
                    f"query: the service saw {server!r}, we signed {ours!r}; a parameter "
                    "was added, removed or changed after signing (a client library, "
                    "proxy or redirect)."
                ),
            )
        )
    return findings


def _header_findings(server_creq: str, our_creq: str) -> list[Finding]:
    theirs, mine = _headers_block(server_creq), _headers_block(our_creq)
    findings: list[Finding] = []
    for name in sorted(set(theirs) | set(mine)):
        a, b = theirs.get(name), mine.get(name)
        if a is not None and b is not None and same_line(f"{name}:{a}", f"{name}:{b}"):
            continue
        if b is None:
            findings.append(
                Finding(
                    cause=Cause.HEADER_ADDED,
                    text=f"header {name!r}: the service signed it but we did not.",
                )
            )
        elif a is None or a == "":
            findings.append(
                Finding(
                    cause=Cause.HEADER_REMOVED,
                    text=(
                        f"header {name!r}: we signed it but it did not reach the service "
                        "(a proxy or load balancer removed it, or the client never sent it)."
                    ),
                )
            )
        elif name == "host":
            findings.append(
                Finding(
                    cause=Cause.HOST,
                    text=(
                        f"host: the service saw {a!r}, we signed {b!r}. Sign the Host header "
                        "exactly as sent: with the port when it is not the default one, "
                        "without it when it is; a proxy in between must keep Host."
                    ),
                )
            )
        elif name == "x-amz-date":
            findings.append(
                Finding(cause=Cause.CLOCK, text="x-amz-date changed between signing and sending.")
            )
        elif name == "x-amz-security-token":
            findings.append(
                Finding(
                    cause=Cause.SESSION_TOKEN,
                    text="session token: the token the service received is not the one signed.",
                )
            )
        elif name == "x-amz-content-sha256":
            findings.append(
                Finding(
                    cause=Cause.BODY_HASH,
                    text="x-amz-content-sha256: the signed body hash header was changed.",
                )
            )
        elif " ".join(a.split()) == " ".join(b.split()):
            findings.append(
                Finding(
                    cause=Cause.HEADER_WHITESPACE,
                    text=(
                        f"header {name!r}: the same words, different whitespace. Trim the "
                        "value and collapse runs of spaces to one before signing."
                    ),
                )
            )
        elif a.startswith(b + ",") or a.endswith("," + b) or ("," in a and b in a.split(",")):
            findings.append(
                Finding(
                    cause=Cause.HEADER_DUPLICATES,
                    text=(
                        f"header {name!r}: the service saw several values ({a!r}); we signed "
                        f"{b!r}. A header sent twice is signed as its values joined by ','."
                    ),
                )
            )
        else:
            findings.append(
                Finding(
                    cause=Cause.HEADER_CHANGED,
                    text=(
                        f"header {name!r}: the service saw {a!r}, we signed {b!r}; it was "
                        "changed after signing (a proxy, a tracing library, an HTTP client "
                        "default). Do not sign headers something in between rewrites."
                    ),
                )
            )
    return findings


def _scope_findings(server_sts: str, our_sts: str | None, message: str) -> list[Finding]:
    findings: list[Finding] = []
    s = split_lines(server_sts)
    if len(s) < 3:
        return findings
    scope = s[2].split("/")
    if our_sts is not None:
        o = split_lines(our_sts)
        if len(o) >= 3:
            if s[1] != o[1]:
                findings.append(
                    Finding(
                        cause=Cause.CLOCK,
                        text=f"request time: the service used {s[1]}, we signed {o[1]}.",
                    )
                )
            oscope = o[2].split("/")
            if len(scope) == len(oscope) == 4:
                if scope[0] != oscope[0]:
                    findings.append(
                        Finding(
                            cause=Cause.CLOCK,
                            text=(
                                f"scope date: the service expects {scope[0]}, we signed "
                                f"{oscope[0]} (the date must be the request's UTC date)."
                            ),
                        )
                    )
                if scope[1] != oscope[1]:
                    findings.append(
                        Finding(
                            cause=Cause.REGION,
                            text=(
                                f"region: the service expects {scope[1]!r}, we signed "
                                f"{oscope[1]!r} (--region)."
                            ),
                        )
                    )
                if scope[2] != oscope[2]:
                    findings.append(
                        Finding(
                            cause=Cause.SERVICE,
                            text=(
                                f"service: the service expects {scope[2]!r}, we signed "
                                f"{oscope[2]!r} (--service; the signing name, e.g. "
                                "'execute-api' for API Gateway, 'es' for OpenSearch)."
                            ),
                        )
                    )
    return findings


def _parse_time(text: str) -> datetime | None:
    text = text.strip()
    for layout in ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _clock_offset(server_time: str | None, string_to_sign: str | None) -> str:
    """How far our signing time was from the service's clock, when both are known."""
    if not server_time or not string_to_sign:
        return ""
    lines = split_lines(string_to_sign)
    ours = _parse_time(lines[1]) if len(lines) > 1 else None
    theirs = _parse_time(server_time)
    if ours is None or theirs is None:
        return ""
    seconds = int((ours - theirs).total_seconds())
    side = "behind" if seconds < 0 else "ahead of"
    return (
        f" We signed at {lines[1]}, {abs(seconds)} s {side} the service's clock "
        f"(ServerTime {server_time.strip()})."
    )


def _creq_findings(diff: LineDiff, server: str, ours: str) -> list[Finding]:
    s, o = split_lines(server), split_lines(ours)
    index = diff.line - 1
    if index == 0:
        return [
            Finding(
                cause=Cause.METHOD,
                text=f"method: the service saw {s[0]!r}, we signed {o[0]!r}.",
            )
        ]
    if index == 1:
        return _path_findings(s[1], o[1])
    if index == 2:
        return _query_findings(s[2], o[2])
    if diff.part == "payload hash":
        return [
            Finding(
                cause=Cause.BODY_HASH,
                text=(
                    "body hash: the body the service received hashes differently from the "
                    "one we signed (changed after signing: re-encoded, compressed, a "
                    "consumed stream, a different Content-Type charset), or one side uses "
                    "UNSIGNED-PAYLOAD."
                ),
            )
        ]
    if diff.part == "signed headers":
        return [
            Finding(
                cause=Cause.HEADER_ADDED,
                text=(
                    f"signed headers: the service lists {s[index]!r}, we signed "
                    f"{o[index]!r}."
                ),
            )
        ]
    return _header_findings(server, ours) or [
        Finding(cause=Cause.HEADER_CHANGED, text=f"headers: {diff.server!r} vs {diff.ours!r}")
    ]


_NEITHER_SIDE = Finding(
    cause=Cause.UNKNOWN,
    text=(
        "the service sent neither its canonical request nor its string to sign; "
        "compare with `sigv4kit sign -v` output or verify the request against a "
        "local verifier (`sigv4kit verify`)."
    ),
)


def _no_difference(
    server_creq: str | None,
    server_sts: str | None,
    our_creq: str | None,
    our_sts: str | None,
    sts_diff: LineDiff | None,
) -> Finding:
    if server_sts is None and server_creq is None:
        return _NEITHER_SIDE
    if our_creq is None and our_sts is None:
        # The error body alone shows what the service computed, not what the
        # client signed: any canonicalization difference (path encoding, query
        # order) looks the same as a wrong secret from here.
        shown = " and ".join(
            name
            for name, text in (("canonical request", server_creq), ("string to sign", server_sts))
            if text is not None
        )
        return Finding(
            cause=Cause.UNKNOWN,
            text=(
                f"the error body shows the {shown} the service computed (above), not what "
                "was signed, so it cannot tell a canonicalization difference (path "
                "encoding, query order, a header changed in transit) from a wrong secret "
                "access key. Compare them with your signer's (`sigv4kit sign -v`), or pass "
                "the request that was sent: --request FILE (add --secret-access-key for a "
                "signed request), or --url/-H/-d with the signing options."
            ),
        )
    if server_creq is not None and our_creq is not None and sts_diff is None:
        return Finding(
            cause=Cause.SECRET_KEY,
            text=(
                "the canonical request and string to sign are identical on both sides: "
                "the secret access key is wrong (or does not belong to this access key id)."
            ),
        )
    hash_differs = sts_diff is not None and sts_diff.part == "canonical request hash"
    if server_sts is not None and hash_differs:
        return Finding(
            cause=Cause.UNKNOWN,
            text=(
                "the canonical requests differ (their hashes do), but the service did not "
                "send its canonical request. Check, in order: path encoding (--s3 or not), "
                "query encoding ('+', '%20'), the Host header and port, headers changed by a "
                "proxy, and the body."
            ),
        )
    if our_sts is not None and sts_diff is None:
        return Finding(
            cause=Cause.SECRET_KEY,
            text=(
                "the string to sign matches the service's: the secret access key is wrong "
                "(or does not belong to this access key id)."
            ),
        )
    return Finding(
        cause=Cause.UNKNOWN,
        text=(
            "the service's string to sign differs from ours only where neither side "
            "names a cause; compare the two texts above line by line."
        ),
    )
