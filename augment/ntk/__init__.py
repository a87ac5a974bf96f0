"""The analytic NNGP/NTK kernel engine (see :mod:`augment.ntk.stax`)."""

from augment.ntk import stax
from augment.ntk.linalg import psd_expm, safe_arctan2, safe_sqrt

__all__ = ["psd_expm", "safe_arctan2", "safe_sqrt", "stax"]
