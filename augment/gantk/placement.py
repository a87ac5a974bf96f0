"""Where independent GA-NTK problems run: lanes of a batched computation, sharded over devices.

A class's synthetic batches are independent problems. They run ``lanes`` at a time as one
``vmap``-ed computation whose leading (lane) axis is sharded over a 1-D device mesh with
:class:`jax.sharding.NamedSharding`; the real set and its Gram matrix are replicated. Which lane
or device a problem runs on does not change what it computes (every problem has its own PRNG
key), so results agree across device counts within float tolerance.

With several processes (``jax.distributed.initialize()``, docs/usage.md), the mesh spans every
process's devices: each process feeds and computes the lanes on its own devices, and
:meth:`Placement.to_host` gathers the whole batch to every process, so all of them take the same
decisions; only process 0 writes files.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from augment.errors import AugmentError

LANE_AXIS = "problems"


def default_device() -> jax.Device:
    """The device JAX puts new arrays on here (``jax.default_device`` context, else the first)."""
    chosen = getattr(jax.config, "jax_default_device", None)
    if isinstance(chosen, jax.Device):
        return chosen
    return jax.devices(chosen)[0] if isinstance(chosen, str) else jax.devices()[0]


def own_devices(devices) -> list[jax.Device]:
    """The devices among ``devices`` that belong to this process."""
    return [d for d in devices if d.process_index == jax.process_index()]


@dataclass(frozen=True)
class Placement:
    """``lanes_per_device`` problems on each of ``devices`` at once.

    Attributes:
      devices: the devices of the mesh (all processes' devices in a multi-process run).
      lanes_per_device: problems batched on each device.
    """

    devices: tuple[jax.Device, ...]
    lanes_per_device: int = 1

    def __post_init__(self):
        if not self.devices:
            raise AugmentError("no devices to run on")
        if self.lanes_per_device < 1:
            raise AugmentError(f"lanes_per_device must be at least 1, got {self.lanes_per_device}")

    @classmethod
    def single(cls, device: jax.Device | None = None) -> Placement:
        """One problem at a time on ``device`` (default: :func:`default_device`)."""
        return cls((device or default_device(),))

    @property
    def lanes(self) -> int:
        """Problems computed at once."""
        return len(self.devices) * self.lanes_per_device

    @cached_property
    def mesh(self) -> Mesh:
        return Mesh(np.asarray(self.devices, dtype=object), (LANE_AXIS,))

    def to_lanes(self, host: np.ndarray) -> jax.Array:
        """(lanes, ...) host array -> a global array split along its first axis over the devices."""
        return self._global(host, PartitionSpec(LANE_AXIS))

    def replicated(self, host) -> jax.Array:
        """A global array with a whole copy of ``host`` on every device."""
        return self._global(host, PartitionSpec())

    def _global(self, host, spec: PartitionSpec) -> jax.Array:
        """Each process supplies the pieces of ``host`` its own devices hold."""
        host = np.asarray(host)
        sharding = NamedSharding(self.mesh, spec)
        return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])

    def to_host(self, array: jax.Array) -> np.ndarray:
        """The whole of a global array as numpy, on every process."""
        if jax.process_count() > 1:
            return np.asarray(multihost_utils.process_allgather(array, tiled=True))
        return np.asarray(array)

    def describe(self) -> dict:
        """For provenance: which devices, how many problems per device."""
        return {
            "devices": [str(d) for d in self.devices],
            "processes": jax.process_count(),
            "lanes_per_device": self.lanes_per_device,
        }
