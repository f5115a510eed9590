"""The pure analysis core: numpy / pandas / scipy only, no napari, no Qt.

One module per pipeline step: :mod:`.io` (DLC files, :class:`~.io.Pose`), :mod:`.orient`
(mirroring and direction), :mod:`.clean`, :mod:`.events`, :mod:`.cycles`, :mod:`.stats`,
:mod:`.synthetic` (the two-view walker with ground truth) and :mod:`.pipeline`; the manifest
``trials.csv`` is read and written by :mod:`.manifest`, movement datasets by :mod:`.movement_io`.
"""
