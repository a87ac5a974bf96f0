"""Grey classes in a colour run: a class whose real images are grey gets grey synthetic images.

A folder is read as colour when any of its images is (:func:`~augment.io.folder.load_folder`),
so a class of grey images in it arrives as three equal channels. Nothing in the loss ties the
channels of a synthetic image together, so from the optimiser's independent noise each channel
would go its own way. :func:`is_grey` reads off a class's real images whether they are grey, and
:func:`keep_grey` maps every pixel of such a class's images to the mean of its channels: direct
mode after every step (and on its start), generator mode on every sample it draws.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from augment.measures.quality import SAME_IMAGE

GREY_TOLERANCE = SAME_IMAGE  # a channel within half an 8-bit grey level of the pixel's mean is equal to it


def is_grey(real: np.ndarray) -> bool:
    """Whether ``real`` (n, S, S, C) holds a grey class in colour: C > 1 and, at every pixel of
    every image, each channel within :data:`GREY_TOLERANCE` of the channels' mean."""
    real = np.asarray(real, np.float32)
    if real.shape[-1] == 1:
        return False
    return bool(np.all(np.abs(real - real.mean(axis=-1, keepdims=True)) <= GREY_TOLERANCE))


def keep_grey(images: jax.Array | np.ndarray, grey: jax.Array | np.ndarray | bool) -> jax.Array:
    """``images`` (..., C) with every pixel's channels replaced by their mean where ``grey`` (a
    traced () bool, so both kinds of class share one compilation), else unchanged, bit for bit."""
    mean = jnp.broadcast_to(jnp.mean(images, axis=-1, keepdims=True), images.shape)
    return jnp.where(grey, mean, images)
