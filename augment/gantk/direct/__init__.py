"""Direct mode (GA-NTK on the pixels): the synthetic pixels themselves are the parameters.

- :mod:`~augment.gantk.direct.config`: its settings (:class:`SynthesisConfig`);
- :mod:`~augment.gantk.direct.starts`: where its images start;
- :mod:`~augment.gantk.direct.problem`: one synthetic batch compiled, its step and its lanes;
- :mod:`~augment.gantk.direct.stops`: when a batch ends and what it writes;
- :mod:`~augment.gantk.direct.synthesis`: :func:`synthesize`, the scheduler of a class's batches;
- :mod:`~augment.gantk.direct.snapshot`: where a class stands, to checkpoint and resume it;
- :mod:`~augment.gantk.direct.multiscale`: coarse-to-fine synthesis.
"""

from augment.gantk.direct.config import SynthesisConfig
from augment.gantk.direct.multiscale import CoarseToFineSnapshot, synthesize_coarse_to_fine
from augment.gantk.direct.problem import (
    UNBATCHED_SINGLE_LANE,
    CompiledProblem,
    ProblemState,
    compiled_problem,
    pixel_bounds,
    xla_step_bytes,
)
from augment.gantk.direct.snapshot import SynthesisSnapshot
from augment.gantk.direct.synthesis import ProgressFn, SynthesisResult, plan_problems, stops_for, synthesize

__all__ = [
    "UNBATCHED_SINGLE_LANE",
    "CoarseToFineSnapshot",
    "CompiledProblem",
    "ProblemState",
    "ProgressFn",
    "SynthesisConfig",
    "SynthesisResult",
    "SynthesisSnapshot",
    "compiled_problem",
    "pixel_bounds",
    "plan_problems",
    "stops_for",
    "synthesize",
    "synthesize_coarse_to_fine",
    "xla_step_bytes",
]
