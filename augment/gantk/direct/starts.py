"""Where direct mode's synthetic images start: a registry, :data:`STARTS` (``SynthesisConfig.start``).

Direct mode's optimisation runs from its start towards a copy of a real image, and the novelty
stop writes each image's last version that was farther from every real image than the novelty
floor (docs/design.md, "Copy guards"). The written image is therefore a mixture of its start and
a fading copy: from uniform noise it keeps noise, from a blurred start it keeps blur. A start
that is already sharp and already beyond the floor keeps neither:

- ``noise``: uniform noise in [0, 1] (the published GA-NTK start);
- ``warped``: each image a real image of the class, smoothly deformed (:func:`warp`: a random
  displacement field on a coarse grid, a small rotation and shift). A start that is still within
  the floor of its nearest real image is deformed again, twice as strongly, up to
  :data:`WARP_ATTEMPTS` deformations; one still within it after them starts as uniform noise. So
  the start each class gets is read off its own images: slices of one scan that lie close
  together are new after a small deformation, tissue tiles that lie far apart are not, and a
  deformed copy within the floor is never written.

A start function takes ``(key, real, count, floor_distance, bounds)``: a PRNG key, the class's real images
(n, S, S, C) in [0, 1], the number of images, the novelty floor's distance (None: no floor) and
the lowest and highest value each pixel may take (two (S, S, C) arrays, what every step clips
to: :func:`~augment.gantk.direct.pixel_bounds`), and returns (count, S, S, C) float32 within
those bounds, or None for the optimiser's own uniform noise.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from augment.gantk.augmentation import posed_grid
from augment.measures.quality import nearest_real
from augment.registry import Registry

Array = jax.Array
Bounds = tuple[np.ndarray, np.ndarray]
StartFn = Callable[[Array, np.ndarray, int, float | None, Bounds], np.ndarray | None]

WARP_GRID = 4  # control points a side of the random displacement field
WARP_DISPLACEMENT = 1.0 / 64  # its standard deviation at the first attempt, a fraction of the size
WARP_ROTATION = 3.0  # the largest rotation, in degrees, at the first attempt
WARP_SHIFT = 0.02  # the largest shift, a fraction of the size, at the first attempt
WARP_ATTEMPTS = 2  # deformations tried, each twice as strong, until a start is beyond the floor


def _warp_one(image: Array, field: Array, angle: Array, shift: Array) -> Array:
    """One (S, S, C) image resampled (bilinear, edges repeated) at the identity grid rotated by
    ``angle`` radians about the centre, shifted by ``shift`` (2,) pixels and displaced by ``field``
    (S, S, 2) pixels."""
    rows, columns = posed_grid(image.shape[0], angle, shift)
    source = [rows + field[..., 0], columns + field[..., 1]]

    def channel(plane: Array) -> Array:
        return jax.scipy.ndimage.map_coordinates(plane, source, order=1, mode="nearest")

    return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)


_warp_batch = jax.jit(jax.vmap(_warp_one))


def warp(key: Array, images: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """Each of ``images`` (n, S, S, C) in [0, 1] smoothly deformed: a displacement field drawn on
    a :data:`WARP_GRID` square grid with standard deviation ``strength * WARP_DISPLACEMENT * S``
    pixels and resized to S x S (cubic), a rotation uniform within ``strength * WARP_ROTATION``
    degrees and a shift uniform within ``strength * WARP_SHIFT * S`` pixels in each direction.
    Returns (n, S, S, C) float32 in [0, 1]."""
    images = np.asarray(images, np.float32)
    n, size = images.shape[0], images.shape[1]
    field_key, angle_key, shift_key = jax.random.split(key, 3)
    displacement, rotation = strength * WARP_DISPLACEMENT * size, jnp.deg2rad(strength * WARP_ROTATION)
    coarse = displacement * jax.random.normal(field_key, (n, WARP_GRID, WARP_GRID, 2))
    field = jax.image.resize(coarse, (n, size, size, 2), "cubic")
    angle = rotation * jax.random.uniform(angle_key, (n,), minval=-1.0, maxval=1.0)
    shift = (strength * WARP_SHIFT * size) * jax.random.uniform(shift_key, (n, 2), minval=-1.0, maxval=1.0)
    return np.clip(np.asarray(_warp_batch(jnp.asarray(images), field, angle, shift)), 0.0, 1.0)


def noise_start(
    key: Array, real: np.ndarray, count: int, floor_distance: float | None, bounds: Bounds
) -> None:
    """The optimiser's own start: uniform noise (None)."""
    return None


def warped_start(
    key: Array, real: np.ndarray, count: int, floor_distance: float | None, bounds: Bounds
) -> np.ndarray:
    """``count`` deformed real images (see the module's docstring), each clipped to ``bounds``
    before it is measured: image j comes from a real image drawn uniformly; one still nearer
    than ``floor_distance`` to its nearest real image after :data:`WARP_ATTEMPTS` deformations starts as
    uniform noise (within the bounds) instead."""
    real = np.asarray(real, np.float32)
    low, high = (np.asarray(b, np.float32) for b in bounds)
    source_key, warp_key, noise_key = jax.random.split(key, 3)
    sources = real[np.asarray(jax.random.randint(source_key, (count,), 0, len(real)))]

    def within(images: np.ndarray) -> np.ndarray:
        return np.clip(images, low, high)

    starts = within(warp(jax.random.fold_in(warp_key, 0), sources))
    if floor_distance is None:
        return starts
    for attempt in range(1, WARP_ATTEMPTS + 1):
        near = nearest_real(starts, real)[1] < floor_distance
        if not near.any():
            break
        again = within(
            warp(jax.random.fold_in(warp_key, attempt), sources, 2.0**attempt)
            if attempt < WARP_ATTEMPTS
            else np.asarray(jax.random.uniform(noise_key, starts.shape, jnp.float32))
        )
        starts = np.where(near[:, None, None, None], again, starts)
    return starts


STARTS: Registry[StartFn] = Registry("start", "start")
STARTS.register("noise", noise_start)
STARTS.register("warped", warped_start)
