"""Initialisation modes: ``exact`` (critical points), ``start`` (:mod:`~solver.init.anchors`),
``layerwise`` and ``auto`` (:mod:`~solver.init.modes`), and :func:`~solver.init.pytorch.init_`
for PyTorch models.

All modes implement Chen, Hao and He, "A weight initialization based on the linear product
structure for neural networks", Applied Mathematics and Computation 415, 2022 (arXiv
2109.00125; DESIGN.md).
"""
