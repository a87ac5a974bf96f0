"""``python -m augment.cli``: the same app as the ``augment`` command."""

from .app import main

main()
