"""``python -m augment.cli``: the same app as the ``augment`` command."""

from augment.cli.app import main

main()
