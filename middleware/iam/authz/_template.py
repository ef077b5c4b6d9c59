"""Resource ARN templates: ``arn:aws:orders:{region}:{account}:order/{order_id}``.

A template is checked once, when the route declares it (:meth:`ResourceTemplate.parse`
raises :class:`ResourceTemplateError` for a malformed one), and filled per
request from the route's path parameters plus ``{region}`` (the signed
credential scope's region) and ``{account}`` (the caller's account).

Imports: the standard library only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BUILTIN_FIELDS", "ResourceTemplate", "ResourceTemplateError"]

#: Fields every template may use without a path parameter of that name.
BUILTIN_FIELDS = frozenset({"region", "account"})


class ResourceTemplateError(ValueError):
    """A resource template is malformed, or a request lacks one of its fields.

    A programming error of the service, not of the caller: the request it
    happens on is refused (fail closed) and the message says which template
    and which field.
    """


@dataclass(frozen=True, slots=True)
class ResourceTemplate:
    """A parsed template: literal text and field names, alternating.

    ```python
    template = ResourceTemplate.parse("arn:aws:orders:{region}:{account}:order/{order_id}")
    template.fill({"order_id": "42"}, region="us-east-1", account="123456789012")
    ```
    """

    text: str
    pieces: tuple[tuple[str, str | None], ...]

    @property
    def fields(self) -> frozenset[str]:
        """The field names, builtin ones included."""
        return frozenset(name for _, name in self.pieces if name is not None)

    @property
    def path_fields(self) -> frozenset[str]:
        """The fields that must come from the route's path parameters."""
        return self.fields - BUILTIN_FIELDS

    @classmethod
    def parse(cls, text: str) -> ResourceTemplate:
        """Check ``text``; :class:`ResourceTemplateError` names what is wrong.

        Fields are plain names (``{order_id}``): no format spec, conversion,
        attribute or index; ``{{`` and ``}}`` are literal braces.
        """
        if not isinstance(text, str) or not text:
            raise ResourceTemplateError("a resource template must be a non-empty string")
        try:
            parsed = list(string.Formatter().parse(text))
        except ValueError as exc:
            raise ResourceTemplateError(f"resource template {text!r}: {exc}") from None
        pieces: list[tuple[str, str | None]] = []
        for literal, name, spec, conversion in parsed:
            if name is not None and (not name.isidentifier() or spec or conversion):
                shown = name + (f"!{conversion}" if conversion else "") + (
                    f":{spec}" if spec else "")
                raise ResourceTemplateError(
                    f"resource template {text!r}: field {{{shown}}} is not a plain name "
                    "like {order_id}"
                )
            pieces.append((literal, name))
        return cls(text, tuple(pieces))

    def fill(self, path_params: Mapping[str, Any], *, region: str, account: str) -> str:
        """The ARN for one request; :class:`ResourceTemplateError` for a missing path parameter."""
        out: list[str] = []
        for literal, name in self.pieces:
            out.append(literal)
            if name is None:
                continue
            if name == "region":
                out.append(region)
            elif name == "account":
                out.append(account)
            else:
                value = path_params.get(name)
                if value is None:
                    have = ", ".join(sorted(path_params)) or "none"
                    raise ResourceTemplateError(
                        f"resource template {self.text!r} needs the path parameter "
                        f"{name!r}, which this route does not have (it has: {have})"
                    )
                out.append(str(value))
        return "".join(out)
