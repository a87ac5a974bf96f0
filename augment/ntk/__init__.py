"""The analytic NNGP/NTK kernel engine (see :mod:`augment.ntk.stax`)."""

from augment.ntk import stax
from augment.ntk.linalg import arc_cosine, psd_expm

__all__ = ["arc_cosine", "psd_expm", "stax"]
