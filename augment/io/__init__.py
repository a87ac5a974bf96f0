"""Everything that touches files: reading real images (:mod:`~augment.io.readers`,
:mod:`~augment.io.folder`), writing and reading synthetic datasets (:mod:`~augment.io.writers`,
:mod:`~augment.io.dataset`), saved generators (:mod:`~augment.io.saved_generator`) and atomic
publishing (:mod:`~augment.io.atomic`). A run's checkpoints hold its classes' state, so they live
in the run layer (:mod:`augment.run.checkpoint`)."""
