"""``POST /v1/modules/{name}/ui-submit``: a form of a module's UI document, sent back to it.

The console draws a module's A2UI document (docs/a2ui.md); a button of one
of its forms posts here, and the submission is journaled as a ``custom``
event named ``ui-submit.<module>`` (source ``console``), so the module
handles it like any event: in order, in its own transaction, with a
trajectory, retried or dead-lettered like the rest. The name carries the
module, so a module sees only its own forms' submissions.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._events import Custom, Event
from ..errors import ApiError
from ._api import Api

Scalar = str | int | float | bool | None
_ID = r"^[\w.:-]+$"


def submit_event_name(module: str) -> str:
    """The custom event a module subscribes to for its forms' submissions."""
    return f"ui-submit.{module}"


class UiSubmitRequest(BaseModel):
    """The form's id, the button pressed, and each field's value."""

    model_config = ConfigDict(extra="forbid")
    form: str = Field(min_length=1, max_length=200, pattern=_ID)
    button: str = Field(default="submit", min_length=1, max_length=200, pattern=_ID)
    values: dict[Annotated[str, Field(max_length=200)], Scalar] = Field(
        default_factory=dict, max_length=200
    )


class UiApi(Api):
    """The submit route; token checks and body parsing are the API's own."""

    def routes(self) -> list[Route]:
        return [Route("/v1/modules/{name}/ui-submit", self.submit, methods=["POST"])]

    async def submit(self, request: Request) -> Response:
        self._authorize(request)
        name = self._status(request.path_params["name"]).name
        body = await self._body(request, UiSubmitRequest)
        payload = json.dumps({"form": body.form, "button": body.button, "values": body.values})
        event = Event(Custom(submit_event_name(name), "console", payload))
        if not self.engine.subscribes(name, event):
            raise ApiError(
                409,
                f"module {name!r} does not subscribe to its form submissions; add "
                f'[[subscription]] kind = "custom", name = "{submit_event_name(name)}" '
                "to its cove.toml",
            )
        await self.engine.publish([event])
        return JSONResponse({"id": event.id, "name": submit_event_name(name)}, 202)
