"""The one domain error type of augment, and how its messages name parameters.

Every mistake a user can make (a bad path, an unreadable file, an impossible option) is raised as
:class:`AugmentError` with a message written for that user. The library names its *parameters* in
backticks: ``` `n` must be at least 1``` or ``pass `on_bad_file=skip` ``; a front end rewrites
those to its own spelling (the CLI prints ``--n`` and ``--on-bad-file skip``, see
:func:`render`). The CLI prints the message as one line on stderr and exits with code 1; it never
shows a traceback for an ``AugmentError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

PARAMETER = re.compile(r"`([a-z_][a-z0-9_]*)(?:=([^`]*))?`")
"""A parameter named in a message: `` `name` `` or `` `name=value` ``."""


class AugmentError(Exception):
    """A problem the user can fix, described in one line."""

    @property
    def parameters(self) -> list[str]:
        """The parameters the message names, in order."""
        return [match.group(1) for match in PARAMETER.finditer(str(self))]


def one_of(names: Iterable[str]) -> str:
    """``"a, b or c"``."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def render(message: str, spell: Callable[[str, str | None], str]) -> str:
    """``message`` with every `` `name` `` / `` `name=value` `` replaced by ``spell(name, value)``."""
    return PARAMETER.sub(lambda match: spell(match.group(1), match.group(2)), message)
