"""The run's seed: any whole number from 0 to 2**64 - 1, each giving its own random stream."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from augment.errors import AugmentError

MAX_SEED = 2**64 - 1


def check_seed(seed: object) -> int:
    """``seed`` if it is a whole number in [0, 2**64 - 1], else an AugmentError."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise AugmentError(f"`seed` must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def root_key(seed: int) -> jax.Array:
    """The run's root PRNG key: the 64-bit ``seed`` as the two 32-bit words of a threefry key
    (high, low). For seeds below 2**32 this is ``jax.random.PRNGKey(seed)``, so results made with
    those seeds are unchanged; larger seeds no longer wrap around onto them."""
    seed = check_seed(seed)
    return jnp.asarray([seed >> 32, seed & 0xFFFFFFFF], dtype=jnp.uint32)
