"""Forms as data: the fields a workflow asks for, rendered by one template with errors in place.

A register workflow in the browser (adopt risks, treat, accept, classify a system,
plan an audit, ...) is a :class:`Form` of :class:`Field` s; ``templates/form.html``
renders any of them, with each error next to the field it is about and the
values the user typed kept. The services under ``assay.aims`` do the checking:
their messages name the field (``field 'treatment' is ...``), and
:func:`field_errors` puts each message beside that field (WCAG 3.3.1: the error
is identified and described in text, linked with ``aria-describedby``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import HTMLResponse

from assay.accounts import Principal
from assay.errors import AssayError
from assay.web.rendering import render

__all__ = ["Field", "Form", "field_errors", "show"]

Kind = Literal["text", "textarea", "select", "multi", "radio", "number", "date", "checkbox", "file"]


@dataclass(frozen=True)
class Field:
    """One input. ``multi`` is a group of checkboxes and ``radio`` one of radio buttons;
    ``options`` are (value, label) pairs; a ``file`` field makes the form multipart."""

    name: str
    label: str
    kind: Kind = "text"
    options: tuple[tuple[str, str], ...] = ()
    required: bool = False
    help: str = ""
    max_length: int = 5000


@dataclass(frozen=True)
class Form:
    """A page's form: where it posts, its fields, and the button's words."""

    title: str
    action: str
    fields: tuple[Field, ...]
    submit: str
    intro: str = ""
    back: tuple[str, str] | None = None  # (href, label) of the page the form belongs to
    values: Mapping[str, object] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)

    def missing(self, values: Mapping[str, object]) -> dict[str, str]:
        """An error for each required field left empty (blank text or nothing ticked)."""
        return {
            f.name: f"field '{f.name}' is required: {f.label.lower()}"
            for f in self.fields
            if f.required and not str(values.get(f.name) or "").strip()
        }

    def check_required(self, values: Mapping[str, object]) -> None:
        """Raise the first :meth:`missing` error (the service never sees an empty field)."""
        for message in self.missing(values).values():
            raise AssayError(message)

    @property
    def multipart(self) -> bool:
        return any(f.kind == "file" for f in self.fields)

    def with_state(
        self, values: Mapping[str, object], error: str | Mapping[str, str] | None
    ) -> Form:
        """The same form showing the user's ``values`` and the error(s) beside their fields:
        a service's message (put beside the field it names) or a field → message mapping."""
        if isinstance(error, str):
            errors = field_errors(error, [f.name for f in self.fields])
        else:
            errors = dict(error or {})
        return Form(self.title, self.action, self.fields, self.submit, self.intro, self.back,
                    values, errors)


_FIELD_NAME = re.compile(r"field '([a-z_]+)")


def field_errors(message: str, names: Sequence[str]) -> dict[str, str]:
    """``message`` keyed by the field it names (``field 'x'`` or the field's name), else ``""``.

    The key ``""`` is the form-level error, shown above the fields.
    """
    named = _FIELD_NAME.search(message)
    if named and named.group(1) in names:
        return {named.group(1): message}
    for name in names:
        if re.search(rf"\b{re.escape(name)}\b", message):
            return {name: message}
    return {"": message}


def show(
    request: Request,
    principal: Principal,
    form: Form,
    values: Mapping[str, object] | None = None,
    error: str | Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render ``form`` (HTTP 400 when it carries errors) with the user's values kept."""
    shown = form.with_state(values or {}, error)
    status = 400 if shown.errors else 200
    return render(request, "form.html", principal, status, form=shown, **context)
