"""Approvals inbox: the A2UI example module.

`approval.request` events (payload {"id", "what", "by"}) add a pending
request. The `inbox` tool answers with a UI document: counts, one form per
pending request (a note, Approve and Reject) and the latest decisions. A
button pressed in the console arrives as a `ui-submit.approvals` event and
is handled like any event: the decision and the note commit together.
"""

import json

from cove_sdk import HostError, ToolProvider, WitWorld, on_event, state, tool, ui

__all__ = ["ToolProvider", "WitWorld"]

DECISIONS_SHOWN = 10


@on_event("custom")
def on_custom(event, meta):
    sent = ui.submission(event)
    if sent is not None:
        decide(sent)
        return
    request = json.loads(event.payload or "{}")
    key = "pending/" + str(request["id"])
    state.set(key, {"id": str(request["id"]), "what": request.get("what", ""),
                    "by": request.get("by", "")})  # fmt: skip


def decide(sent):
    if sent.button not in ("approve", "reject"):
        raise HostError("invalid-input", f"unknown button {sent.button!r}")
    request_id = sent.form.removeprefix("request-")
    request = state.get("pending/" + request_id)
    if request is None:
        return  # decided already (a second press of the same form)
    state.delete("pending/" + request_id)
    number = state.incr("decided")
    verdict = "approved" if sent.button == "approve" else "rejected"
    state.set(f"decision/{number:08d}", {**request, "verdict": verdict,
                                         "note": str(sent.values.get("note") or "")})  # fmt: skip


@tool("inbox", "The pending approval requests, as a UI with Approve and Reject buttons.")
def inbox():
    pending = [state.get(k) for k in state.keys("pending/")]
    decided = [state.get(k) for k in state.keys("decision/")][-DECISIONS_SHOWN:]
    forms = [
        ui.form(
            "request-" + r["id"],
            [ui.field("note", "Note for the requester")],
            [ui.button("approve", "Approve"), ui.button("reject", "Reject")],
            title=f"{r['what']} (asked by {r['by']})",
        )
        for r in pending
    ]
    return ui.document(
        ui.kv({"pending": len(pending), "decided": state.get("decided", 0)}),
        ui.markdown("Nothing waits for you." if not pending else "**Decide** each request below."),
        *forms,
        ui.table(
            ["request", "what", "verdict", "note"],
            [[d["id"], d["what"], d["verdict"], d["note"]] for d in reversed(decided)],
        ),
        title="Approvals",
    )
