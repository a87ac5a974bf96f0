"""The ``augment`` command line (installed as ``augment.cli``; see pyproject.toml)."""
