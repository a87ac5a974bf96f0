"""The run layer: what ``augment synth`` and ``augment sample`` do, as library calls.

- :mod:`~augment.run.request`: the requests and reports;
- :mod:`~augment.run.counts`, :mod:`~augment.run.devices`: how many images, on which devices;
- :mod:`~augment.run.plan`: the checked request and the run's plan (memory, placement);
- :mod:`~augment.run.provenance`: versions, fingerprint, the provenance record;
- :mod:`~augment.run.checkpoint`: the checkpoint an interrupted run resumes from;
- :mod:`~augment.run.synth`, :mod:`~augment.run.sample`: the two runs.
"""

from augment.run.request import SampleReport, SampleRequest, SynthReport, SynthRequest
from augment.run.sample import run_sample
from augment.run.synth import run_synth

__all__ = ["SampleReport", "SampleRequest", "SynthReport", "SynthRequest", "run_sample", "run_synth"]
