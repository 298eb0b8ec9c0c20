"""The homotopy-continuation engine: every isolated solution of a square polynomial system.

Reading order: :mod:`~solver.engine.system` (sparse polynomial systems) ->
:mod:`~solver.engine.evaluation` (Numba evaluation kernels) -> :mod:`~solver.engine.linalg`
(LU kernels) -> :mod:`~solver.engine.homotopy` (the homotopy's data and kernels) ->
:mod:`~solver.engine.start_systems` (set structures, total degree, linear product,
polyhedral, the choice of start) -> :mod:`~solver.engine.options` ->
:mod:`~solver.engine.tracker` -> :mod:`~solver.engine.endgame` ->
:mod:`~solver.engine.path_kernels` -> :mod:`~solver.engine.endpoints` ->
:mod:`~solver.engine.result` -> :mod:`~solver.engine.solve`; then
:mod:`~solver.engine.parameter_homotopy`, the PHC text format
(:mod:`~solver.engine.formats.phc`), PHCpack as a second backend
(:mod:`~solver.engine.backends.phcpack`) and the named benchmark systems
(:mod:`~solver.engine.examples`). Nothing here knows of networks.
"""
