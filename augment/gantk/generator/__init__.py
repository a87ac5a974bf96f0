"""Generator mode (GA-NTKg): a network G(z; theta) per class maps noise to images, trained with the
same GA-NTK loss as direct mode.

- :mod:`~augment.gantk.generator.network`: the network (the stax layers) and its sampling batch;
- :mod:`~augment.gantk.generator.training`: its settings (:class:`GeneratorConfig`) and training;
- :mod:`~augment.gantk.generator.sampling`: drawing images from a trained generator.
"""

from augment.gantk.generator.config import GeneratorConfig
from augment.gantk.generator.sampling import generate, sample
from augment.gantk.generator.snapshot import GeneratorSnapshot
from augment.gantk.generator.training import TrainedGenerator, generator_schedule, train_generator

__all__ = [
    "GeneratorConfig",
    "GeneratorSnapshot",
    "TrainedGenerator",
    "generate",
    "generator_schedule",
    "sample",
    "train_generator",
]
