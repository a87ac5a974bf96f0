"""Everything that touches files: reading real images (:mod:`~augment.io.readers`,
:mod:`~augment.io.folder`), writing and reading synthetic datasets (:mod:`~augment.io.writers`,
:mod:`~augment.io.dataset`), checkpoints (:mod:`~augment.io.checkpoint`), saved generators
(:mod:`~augment.io.saved_generator`) and atomic publishing (:mod:`~augment.io.atomic`)."""
