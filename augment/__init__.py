"""augment: labelled synthetic images from a few real ones with GA-NTK.

Sub-packages:
  - :mod:`augment.ntk`: the analytic NNGP/NTK kernel engine (a neural-tangents-compatible ``stax``).
  - :mod:`augment.gantk`: the GA-NTK discriminator, its losses, and the synthesis modes.
  - :mod:`augment.io`: readers, writers, saved generators.
  - :mod:`augment.run`: `augment synth` and `augment sample` as library calls, with their
    checkpoints.
"""

from importlib.metadata import PackageNotFoundError, version

from augment.errors import AugmentError

try:
    __version__ = version("augment")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["AugmentError", "__version__"]
