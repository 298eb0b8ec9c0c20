"""Initialisation modes: ``exact`` (critical points), ``start`` (:mod:`~solver.init.anchors`),
``layerwise`` and ``auto`` (:mod:`~solver.init.modes`), and :func:`~solver.init.pytorch.init_`
for PyTorch models."""
