"""The exported ``cove:host/migrator`` that componentize-py binds to the migrate-module world."""

from ._migrate import MIGRATIONS
from ._state import state
from ._world import _fail, _flush_output


class Migrator:
    def migrate(self, from_version: str) -> None:
        if not MIGRATIONS:
            raise _fail(RuntimeError("[migrate] is enabled but no function is @on_migrate"))
        state.discard()
        try:
            MIGRATIONS[0](from_version)
            state.flush()  # one set-many: the engine commits it with the new version
        except Exception as exc:
            state.discard()
            raise _fail(exc) from exc
        finally:
            _flush_output()
