"""What augment measures of images, below the engine and the reports: :mod:`~.quality` (distances
to the real images, near-copies, the privacy ratio), :mod:`~.privacy` (membership inference and
the data-copying test), :mod:`~.texture` (texture statistics, blind to where things are) and
:mod:`~.realism` (how real the images look: classifier two-sample tests, fine detail, broken
images)."""
