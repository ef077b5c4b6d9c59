"""The console's HTML, server-rendered with the standard library (every value escaped).

Small functions returning strings: :func:`layout` (the page: skip link,
navigation, the sign-out form, the main landmark), :func:`form` (always
with the CSRF token), :func:`field` (a labelled input), :func:`table`.
Every page works without JavaScript; ``console.js`` only adds conveniences
(copy buttons, the policy editor's live JSON check).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

__all__ = ["NAV", "e", "field", "form", "layout", "link", "select", "table"]

NAV = (
    ("Dashboard", "/console/"),
    ("Users", "/console/users"),
    ("Groups", "/console/groups"),
    ("Roles", "/console/roles"),
    ("Policies", "/console/policies"),
    ("Policy simulator", "/console/simulator"),
    ("Audit trail", "/console/audit"),
    ("Account settings", "/console/account"),
    ("My password", "/console/my-password"),
)


def e(value: object) -> str:
    """``value`` as HTML text (quotes escaped too: safe in attributes)."""
    return escape("" if value is None else str(value), quote=True)


def layout(
    title: str, body: str, *, who: str | None = None, csrf: str | None = None,
    current: str = "", notice: str | None = None, error: str | None = None,
    errors: Sequence[str] = (),
) -> str:
    nav = ""
    if who is not None and csrf is not None:
        marks = {href: ' aria-current="page"' for _, href in NAV if href == current}
        links = "".join(
            f'<li><a href="{e(href)}"{marks.get(href, "")}>{e(text)}</a></li>'
            for text, href in NAV
        )
        nav = (
            f'<nav aria-label="Console"><ul>{links}</ul></nav>'
            f'<div class="who">Signed in as <strong>{e(who)}</strong> '
            f'{form("/console/signout", "", "Sign out", csrf, css="inline")}</div>'
        )
    banner = ""
    if notice:
        banner += f'<div class="notice" role="status">{e(notice)}</div>'
    if error:
        items = "".join(f"<li>{e(item)}</li>" for item in errors)
        extra = f"<ul>{items}</ul>" if items else ""
        banner += f'<div class="error" role="alert"><p>{e(error)}</p>{extra}</div>'
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} - sigv4kit IAM console</title>"
        '<link rel="stylesheet" href="/console/static/console.css">'
        '<script src="/console/static/console.js" defer></script></head><body>'
        '<a class="skip" href="#main">Skip to content</a>'
        f'<header><span class="brand">sigv4kit IAM console</span>{nav}</header>'
        f'<main id="main" tabindex="-1"><h1>{e(title)}</h1>{banner}{body}</main>'
        "</body></html>"
    )


def form(action: str, fields: str, submit: str, csrf: str, *, css: str = "",
         danger: bool = False) -> str:
    button = "danger" if danger else ""
    return (
        f'<form method="post" action="{e(action)}" class="{e(css)}">'
        f'<input type="hidden" name="csrf_token" value="{e(csrf)}">{fields}'
        f'<button type="submit" class="{button}">{e(submit)}</button></form>'
    )


def field(label: str, name: str, *, kind: str = "text", value: str = "",
          required: bool = False, autocomplete: str = "off", hint: str = "",
          field_id: str | None = None, extra: str = "") -> str:
    ident = field_id or f"f-{name}"
    hint_html = f'<small id="{e(ident)}-hint">{e(hint)}</small>' if hint else ""
    described = f' aria-describedby="{e(ident)}-hint"' if hint else ""
    req = " required" if required else ""
    if kind == "textarea":
        control = (f'<textarea id="{e(ident)}" name="{e(name)}" rows="16" spellcheck="false"'
                   f"{req}{described}{extra}>{e(value)}</textarea>")
    elif kind == "checkbox":
        checked = " checked" if value else ""
        return (f'<div class="field check"><input type="checkbox" id="{e(ident)}" '
                f'name="{e(name)}" value="true"{checked}{described}{extra}>'
                f'<label for="{e(ident)}">{e(label)}</label>{hint_html}</div>')
    else:
        control = (f'<input type="{e(kind)}" id="{e(ident)}" name="{e(name)}" '
                   f'value="{e(value)}" autocomplete="{e(autocomplete)}"{req}{described}{extra}>')
    label_html = f'<label for="{e(ident)}">{e(label)}</label>'
    return f'<div class="field">{label_html}{control}{hint_html}</div>'


def select(label: str, name: str, options: Iterable[tuple[str, str]], *,
           selected: str = "") -> str:
    ident = f"f-{name}"
    opts = "".join(
        f'<option value="{e(v)}"{" selected" if v == selected else ""}>{e(t)}</option>'
        for v, t in options
    )
    return (f'<div class="field"><label for="{e(ident)}">{e(label)}</label>'
            f'<select id="{e(ident)}" name="{e(name)}">{opts}</select></div>')


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; cells are HTML already (escape values with :func:`e`)."""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row in rows)
    if not body:
        body = f'<tr><td colspan="{len(headers)}">None.</td></tr>'
    return (f'<table><caption>{e(caption)}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def link(text: str, href: str) -> str:
    return f'<a href="{e(href)}">{e(text)}</a>'
