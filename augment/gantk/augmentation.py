"""The real side of the GA-NTK loss, enlarged with random small rotations and shifts.

With a handful of real images per class, GA-NTK's synthetic images converge onto the real images
themselves (docs/design.md, "Copy guards"). Training the discriminator instead on a larger set of randomly
rotated and shifted versions of the real images makes the target distribution the class's images
*under small pose changes*; the synthetic images then settle on new poses rather than on the
patients' own pixels (measured in ``benchmarks/RESULTS.md``).

Each augmented image is real image ``j mod n`` rotated by U(-rotation, rotation) degrees about its
centre and shifted by U(-shift, shift) * S pixels in each direction, resampled bilinearly with
edge pixels repeated beyond the border. All randomness comes from the key.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from augment import parameters
from augment.errors import AugmentError

Array = jax.Array
AUGMENTATION_STREAM = 0x617567  # fold_in constant: the augmentation's key, apart from the others
POSE_ROTATION, POSE_SHIFT = 12.0, 0.125  # the default small poses: degrees, fraction of the size


def is_scan_size(image_size: int) -> bool:
    """Whether a working size of ``image_size`` pixels is in the scans' regime (above
    :data:`~augment.parameters.SCAN_SIZE`: there the scans' defaults apply,
    :mod:`augment.gantk.resolution`)."""
    return image_size > parameters.SCAN_SIZE


def posed_grid(size: int, angle: Array, shift: Array) -> list[Array]:
    """Where each pixel of an S x S image rotated by ``angle`` radians about its centre and shifted
    by ``shift`` (2,) pixels comes from: the source rows and columns, two (S, S) arrays (what
    ``jax.scipy.ndimage.map_coordinates`` takes)."""
    centre = (size - 1) / 2.0
    y, x = jnp.meshgrid(
        jnp.arange(size, dtype=jnp.float32), jnp.arange(size, dtype=jnp.float32), indexing="ij"
    )
    dy, dx = y - centre - shift[0], x - centre - shift[1]
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    return [cos * dy - sin * dx + centre, sin * dy + cos * dx + centre]


def _affine(image: Array, angle: Array, shift: Array) -> Array:
    """One (S, S, C) image rotated by ``angle`` radians and shifted by ``shift`` (2,) pixels."""
    source = posed_grid(image.shape[0], angle, shift)

    def channel(plane):
        return jax.scipy.ndimage.map_coordinates(plane, source, order=1, mode="nearest")

    return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)


def random_poses(key: Array, count: int, rotation: float, shift_pixels: float) -> tuple[Array, Array]:
    """(count,) angles in radians, uniform within +-rotation degrees, and (count, 2) shifts in
    pixels, uniform within +-shift_pixels in each direction."""
    angle_key, shift_key = jax.random.split(key)
    angles = jnp.deg2rad(rotation) * jax.random.uniform(angle_key, (count,), minval=-1.0, maxval=1.0)
    shifts = shift_pixels * jax.random.uniform(shift_key, (count, 2), minval=-1.0, maxval=1.0)
    return angles, shifts


def augmented_real_set(
    key: Array, real: Array | np.ndarray, count: int, rotation: float, shift: float
) -> Array:
    """``count`` randomly rotated and shifted versions of the real images, cycling through them.

    Args:
      key: a JAX PRNG key.
      real: (n, S, S, C) real images in [0, 1].
      count: the number of images to make (at least n, so every real image is used).
      rotation: the largest rotation, in degrees.
      shift: the largest shift, as a fraction of the size S.

    Returns:
      (count, S, S, C) float32 in [0, 1]; image j comes from real image ``j mod n``.
    """
    n, size = real.shape[0], real.shape[1]
    if count < n:
        raise AugmentError(f"the augmented real set must hold at least the {n} real images, got {count}")
    if rotation < 0 or shift < 0:
        raise AugmentError("the augmentation's rotation and shift must not be negative")
    angles, shifts = random_poses(key, count, rotation, shift * size)
    sources = jnp.asarray(real, jnp.float32)[jnp.arange(count) % n]
    return jnp.clip(jax.jit(jax.vmap(_affine))(sources, angles, shifts), 0.0, 1.0)


def planned_augment_real_to(augment_real_to: int | None) -> int:
    """The augmented real set's size a plan made before the working size is known counts on: the
    one chosen, or for None :data:`~augment.parameters.AUGMENT_REAL_TO`, the larger of the two that
    :func:`~augment.gantk.resolution.resolve` may decide."""
    return parameters.AUGMENT_REAL_TO if augment_real_to is None else augment_real_to


def augmented_size(augment_real_to: int, n: int) -> int:
    """How many images the discriminator's real side holds for a class of ``n`` real images:
    ``n`` without augmentation (``augment_real_to <= 0``), else at least ``augment_real_to``."""
    return max(augment_real_to, n) if augment_real_to > 0 else n


def discriminator_real_set(
    key: Array, real: Array, augment_real_to: int, rotation: float, shift: float
) -> Array:
    """The discriminator's real side for a class synthesised or trained with ``key``: the real
    images (n, S, S, C) themselves, or :func:`augmented_size` rotated and shifted versions of
    them, drawn with a key folded from ``key`` (so it does not consume the run's own stream)."""
    if augment_real_to <= 0:
        return real
    return augmented_real_set(
        jax.random.fold_in(key, AUGMENTATION_STREAM),
        real,
        augmented_size(augment_real_to, real.shape[0]),
        rotation,
        shift,
    )
