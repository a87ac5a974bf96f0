"""GA-NTK: the closed-form NTK-GP discriminator and its losses, and the synthesis modes built on
it: direct synthesis of pixels and generator training (:mod:`augment.gantk.modes`)."""

from augment.gantk.architectures import ARCHITECTURES, discriminator
from augment.gantk.config import DiscriminatorConfig
from augment.gantk.direct import SynthesisResult, plan_problems, synthesize
from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.snapshot import SynthesisSnapshot
from augment.gantk.discriminator import ga_ntk_loss, ntk_gp_train_prediction
from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.sampling import generate, sample
from augment.gantk.generator.snapshot import GeneratorSnapshot
from augment.gantk.generator.training import TrainedGenerator, train_generator
from augment.gantk.losses import LOSSES

__all__ = [
    "ARCHITECTURES",
    "LOSSES",
    "DiscriminatorConfig",
    "GeneratorConfig",
    "GeneratorSnapshot",
    "SynthesisConfig",
    "SynthesisResult",
    "SynthesisSnapshot",
    "TrainedGenerator",
    "discriminator",
    "ga_ntk_loss",
    "generate",
    "ntk_gp_train_prediction",
    "plan_problems",
    "sample",
    "synthesize",
    "train_generator",
]
