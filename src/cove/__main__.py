"""``python -m cove`` is the ``cove`` command."""

from ._cli._main import main

main()
