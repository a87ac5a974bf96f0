"""``augment evaluate``: every figure of a synthetic set against real images
(:mod:`~augment.evaluation.figures`), held-out utility (:mod:`~augment.evaluation.utility`) and the
figures for the terminal (:mod:`~augment.evaluation.summary`)."""

from augment.evaluation.figures import Evaluation, evaluate, recorded_reading
from augment.evaluation.summary import summary_lines
from augment.evaluation.utility import classic_augmentation

__all__ = ["Evaluation", "classic_augmentation", "evaluate", "recorded_reading", "summary_lines"]
