"""``GET /v1/fs/<module>/<path>``: the module file view over HTTP (``cove fs`` reads it).

A directory answers JSON (its entries, names percent-encoded) and the
header ``Cove-Fs-Type: dir``; a file (``Cove-Fs-Type: file``)
answers its bytes with their media type (JSON, UTF-8 text, or octet-stream
for a state value that is not text). The view holds module state, so the
token rule is the state routes' one: a token must be configured, and the
admin or the read-only one is sent. The path is taken from the raw request
path, not the decoded one, so ``a%2Fb`` stays one name.
"""

from __future__ import annotations

import asyncio

from starlette.convertors import PathConvertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ApiError, FilePathError
from ._api import Api
from ._fs_path import KIND_HEADER
from ._fs_tree import Directory, ModuleFiles

PREFIX = "/v1/fs"


class _AnyPath(PathConvertor):
    """Starlette's ``path`` is ``.*``, which stops at a newline: a key ``a\nb`` (sent as
    ``a%0Ab``, decoded by the server) would not match the route at all."""

    regex = "(?s:.*)"


register_url_convertor("cove_any_path", _AnyPath())


class FsApi(Api):
    """The file view's routes; the token checks are the API's own."""

    def routes(self) -> list[Route]:
        return [
            Route(PREFIX, self.read, methods=["GET"]),
            Route(PREFIX + "/{path:cove_any_path}", self.read, methods=["GET"]),
        ]

    async def read(self, request: Request) -> Response:
        if not self.tokens.configured:
            raise ApiError(
                403,
                "the module file view shows module state: it needs a control token; set "
                "[control] token_env or read_token_env in the engine config",
            )
        self._authorize(request, write=False)
        raw = request.scope.get("raw_path") or request.url.path.encode()
        path = raw.decode("ascii", "replace").split("?", 1)[0].removeprefix(PREFIX)
        files = ModuleFiles(self.engine)
        try:
            node = await asyncio.to_thread(files.read, path)
        except FilePathError as exc:
            raise ApiError(404 if exc.missing else 400, str(exc)) from None
        if isinstance(node, Directory):
            return JSONResponse(node.to_json(), headers={KIND_HEADER: "dir"})
        return Response(node.data, media_type=node.media_type, headers={KIND_HEADER: "file"})
