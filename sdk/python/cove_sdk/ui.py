"""A2UI documents: a module's UI as JSON, which the cove console draws (docs/a2ui.md).

Return ``document(...)`` from a tool (it is JSON like any result) and the
console draws it on the Tools page and the module's page. A form's button
sends ``ui-submit.<module>`` back to the module as a custom event; read it
with ``submission(event)``::

    from cove_sdk import on_event, tool, ui

    @tool("inbox", "Pending approvals, with buttons.")
    def inbox():
        return ui.document(
            ui.markdown("**2** requests wait"),
            ui.form("req-7", [ui.field("note", "Note")], [ui.button("approve", "Approve")]),
            title="Approvals",
        )

    @on_event("custom")
    def on_custom(event, meta):
        sent = ui.submission(event)
        if sent is not None and sent.button == "approve":
            ...

Everything a module puts in a document is shown as text: markdown is drawn
from its parsed structure (no raw HTML), links only for http, https and
mailto.
"""

import json
from dataclasses import dataclass
from typing import Any

VERSION = 1
SUBMIT_PREFIX = "ui-submit."
INPUTS = ("text", "number", "checkbox", "select", "textarea")

Scalar = str | int | float | bool | None


def document(*components: dict[str, Any], title: str | None = None) -> dict[str, Any]:
    """A UI document: its components, top to bottom."""
    doc: dict[str, Any] = {"a2ui": VERSION, "components": list(components)}
    if title is not None:
        doc["title"] = title
    return doc


def text(value: str) -> dict[str, Any]:
    """A paragraph of plain text."""
    return {"type": "text", "text": value}


def markdown(value: str) -> dict[str, Any]:
    """Markdown: emphasis, code, lists, quotes, headings, links (no HTML)."""
    return {"type": "markdown", "text": value}


def kv(items: dict[str, Scalar] | list[tuple[str, Scalar]]) -> dict[str, Any]:
    """Labelled values, e.g. ``kv({"pending": 2, "oldest": "3 h"})``."""
    pairs = list(items.items()) if isinstance(items, dict) else list(items)
    return {"type": "kv", "items": [{"label": k, "value": v} for k, v in pairs]}


def items(values: list[Scalar]) -> dict[str, Any]:
    """A bulleted list."""
    return {"type": "list", "items": list(values)}


def table(columns: list[str], rows: list[list[Scalar]]) -> dict[str, Any]:
    """A table; on a phone each row becomes a card labelled by ``columns``."""
    return {"type": "table", "columns": list(columns), "rows": [list(r) for r in rows]}


def chart(
    x: list[Scalar], series: dict[str, list[float | None]], *, x_label: str = "", y_label: str = ""
) -> dict[str, Any]:
    """Lines over ``x`` (numbers, or labels drawn evenly spaced); at most 5 series."""
    return {
        "type": "chart",
        "x": list(x),
        "series": [{"label": k, "values": list(v)} for k, v in series.items()],
        "x_label": x_label,
        "y_label": y_label,
    }


def field(
    name: str,
    label: str | None = None,
    *,
    input: str = "text",
    value: Scalar = None,
    options: list[Scalar] | None = None,
) -> dict[str, Any]:
    """One input of a form: ``input`` is text, number, checkbox, select or textarea."""
    if input not in INPUTS:
        raise ValueError(f"field {name!r}: input must be one of {INPUTS}, got {input!r}")
    out: dict[str, Any] = {"name": name, "label": label or name, "input": input}
    if value is not None:
        out["value"] = value
    if options is not None:
        out["options"] = list(options)
    return out


def button(id: str, label: str | None = None) -> dict[str, Any]:
    """A button of a form; its ``id`` comes back in the submission."""
    return {"id": id, "label": label or id}


def form(
    id: str,
    fields: list[dict[str, Any]],
    buttons: list[dict[str, Any]] | None = None,
    *,
    title: str | None = None,
) -> dict[str, Any]:
    """A form; pressing one of its buttons sends ``ui-submit.<module>`` to the module."""
    out: dict[str, Any] = {
        "type": "form",
        "id": id,
        "fields": list(fields),
        "buttons": list(buttons or [button("submit", "Submit")]),
    }
    if title is not None:
        out["title"] = title
    return out


@dataclass(frozen=True)
class Submission:
    """What the console sent: the form's id, the button pressed, the fields' values."""

    form: str
    button: str
    values: dict[str, Scalar]


def submission(event: Any) -> Submission | None:
    """The form submission a custom event carries, or None when it is another event."""
    name = getattr(event, "name", "")
    if not isinstance(name, str) or not name.startswith(SUBMIT_PREFIX):
        return None
    body = json.loads(getattr(event, "payload", "") or "{}")
    return Submission(str(body["form"]), str(body.get("button", "submit")), body.get("values", {}))
