"""When a direct-mode problem ends, and what it writes: stop policies, composed like optax
transforms (:func:`chain`).

After every chunk of steps, the scheduler (:func:`augment.gantk.direct.synthesize`) hands each
problem's :class:`Chunk` to its policy, which answers with a verdict:

- :data:`GO`: take the chunk and go on;
- :data:`END`: take the chunk and end the problem;
- :data:`UNDO`: leave the chunk out and end the problem as it was before it.

A :class:`Stop` is two functions with one signature each. ``update(novel, chunk)`` gives the
verdict and the problem's *novel* images: (n_s, H, W, C) each image's last version beyond the
novelty floor, the one state the policies carry between chunks (None without a floor; the
checkpoint stores it). ``finish(novel, images, near)`` gives the images a problem writes when it
ends. The policies:

- :func:`step_budget`: end after the problem's steps;
- :func:`convergence`: end once the loss has stopped falling;
- :func:`near_copy_undo`: undo a chunk that makes too many near-copies (not the first: no problem
  ends as its start);
- :func:`novelty`: every image ends as its own last version beyond the floor (the novelty stop).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

GO, END, UNDO = "go", "end", "undo"
_PRECEDENCE = (GO, END, UNDO)  # a chain's verdict is the strongest of its policies'


class Chunk(NamedTuple):
    """What one problem's last chunk of steps made, before it is taken.

    Attributes:
      images: (n_s, H, W, C) the images after it.
      losses: (k,) the loss at each of its steps.
      history: the problem's losses before it.
      near: (n_s,) bool, which of ``images`` are near-copies of a real image; None without a floor.
    """

    images: np.ndarray
    losses: np.ndarray
    history: list[float]
    near: np.ndarray | None


Novel = np.ndarray | None
Update = Callable[[Novel, Chunk], tuple[str, Novel]]
Finish = Callable[[Novel, np.ndarray, "np.ndarray | None"], np.ndarray]


def _as_is(novel: Novel, images: np.ndarray, near: np.ndarray | None) -> np.ndarray:
    return images


class Stop(NamedTuple):
    """A stop policy: ``update(novel, chunk) -> (verdict, novel)`` after every chunk and
    ``finish(novel, images, near) -> images`` when the problem ends (``near``: which of ``images``
    are near-copies, None without a floor)."""

    update: Update
    finish: Finish = _as_is


def step_budget(steps: int) -> Stop:
    """End the problem once it has run ``steps`` steps."""

    def update(novel: Novel, chunk: Chunk) -> tuple[str, Novel]:
        return (END if len(chunk.history) + len(chunk.losses) >= steps else GO), novel

    return Stop(update)


def converged(history: list[float], window: int, tolerance: float) -> bool:
    """Whether the loss fell by less than ``tolerance`` of its value over the last ``window``
    steps of ``history`` (False while the history is not longer than the window)."""
    if len(history) <= window:
        return False
    before, now = history[-window - 1], history[-1]
    return before - now < tolerance * abs(before)


def convergence(window: int, tolerance: float) -> Stop:
    """End the problem once its loss fell by less than ``tolerance`` (relative) over its last
    ``window`` steps (:func:`converged`)."""

    def update(novel: Novel, chunk: Chunk) -> tuple[str, Novel]:
        return (END if converged([*chunk.history, *chunk.losses.tolist()], window, tolerance) else GO), novel

    return Stop(update)


def near_copy_undo(max_fraction: float) -> Stop:
    """Undo a chunk after which more than ``max_fraction`` of the images are near-copies, and end
    the problem; the first chunk always stands. Needs a floor (``chunk.near``)."""

    def update(novel: Novel, chunk: Chunk) -> tuple[str, Novel]:
        assert chunk.near is not None  # composed only where there is a floor
        return (UNDO if chunk.history and float(np.mean(chunk.near)) > max_fraction else GO), novel

    return Stop(update)


def novelty() -> Stop:
    """The novelty stop: keep each image's last version that was beyond the floor, and write it
    in place of an image that ends nearer (the problem's start is its first novel version)."""

    def update(novel: Novel, chunk: Chunk) -> tuple[str, Novel]:
        assert novel is not None and chunk.near is not None  # composed only where there is a floor
        return GO, np.where(chunk.near[:, None, None, None], novel, chunk.images)

    def finish(novel: Novel, images: np.ndarray, near: np.ndarray | None) -> np.ndarray:
        assert novel is not None and near is not None
        return np.where(near[:, None, None, None], novel, images)

    return Stop(update, finish)


def chain(*stops: Stop) -> Stop:
    """One policy of several: each updates the novel images in turn, the verdict is the strongest
    (:data:`UNDO` over :data:`END` over :data:`GO`), and each finishes the images in turn."""

    def update(novel: Novel, chunk: Chunk) -> tuple[str, Novel]:
        verdict = GO
        for stop in stops:
            said, novel = stop.update(novel, chunk)
            verdict = max(verdict, said, key=_PRECEDENCE.index)
        return verdict, novel

    def finish(novel: Novel, images: np.ndarray, near: np.ndarray | None) -> np.ndarray:
        for stop in stops:
            images = stop.finish(novel, images, near)
        return images

    return Stop(update, finish)
