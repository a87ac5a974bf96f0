"""Small named registries: the extension points of augment (readers, writers, losses, modes,
discriminator architectures).

Each extension point is one :class:`Registry`; adding to it is one module that defines the thing
plus one call of :meth:`Registry.register` (see ``docs/extending.md``). Looking up a name that is
not there is an :class:`~augment.errors.AugmentError` that lists the names there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from augment.errors import AugmentError, one_of

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries of one kind, in registration order.

    Args:
      what: what an entry is, for messages ("reader", "output format", ...).
      parameter: the parameter that names an entry, for messages (``"format"``), if any.
    """

    def __init__(self, what: str, parameter: str | None = None) -> None:
        self.what = what
        self.parameter = parameter
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` under ``name`` and return it; an existing name needs ``replace=True``."""
        if not name or not isinstance(name, str):
            raise ValueError(f"a {self.what} needs a non-empty name, got {name!r}")
        if name in self._entries and not replace:
            raise ValueError(f"a {self.what} named {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and plug-ins that register temporarily)."""
        self._entries.pop(name, None)

    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            subject = f"`{self.parameter}`" if self.parameter else f"the {self.what}"
            raise AugmentError(f"{subject} must be {one_of(self._entries)}, got {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def values(self) -> list[T]:
        return list(self._entries.values())
