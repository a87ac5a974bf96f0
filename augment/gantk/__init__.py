"""GA-NTK: the closed-form NTK-GP discriminator, its losses, and direct-mode synthesis."""

from augment.gantk.architectures import ARCHITECTURES, discriminator
from augment.gantk.direct import (
    SynthesisConfig,
    SynthesisResult,
    SynthesisSnapshot,
    plan_problems,
    synthesize,
)
from augment.gantk.discriminator import ga_ntk_loss, ntk_gp_train_prediction

__all__ = [
    "ARCHITECTURES",
    "SynthesisConfig",
    "SynthesisResult",
    "SynthesisSnapshot",
    "discriminator",
    "ga_ntk_loss",
    "ntk_gp_train_prediction",
    "plan_problems",
    "synthesize",
]
