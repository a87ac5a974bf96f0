"""The one domain error type of augment.

Every mistake a user can make (a bad path, an unreadable file, an impossible option) is raised as
:class:`AugmentError` with a message written for that user. The CLI prints the message as one
line on stderr and exits with code 1; it never shows a traceback for an ``AugmentError``.
"""

from __future__ import annotations


class AugmentError(Exception):
    """A problem the user can fix, described in one line."""
