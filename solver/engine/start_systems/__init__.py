"""Start systems of the homotopy, one concept per module.

Reading order: :mod:`.set_structure` (set structures and their generalised Bezout
numbers) -> :mod:`.linear_product` (products of random linear forms on a set structure)
-> :mod:`.total_degree` (the special case of singleton-variable factors) ->
:mod:`.polyhedral` (PHCpack's random-coefficient start, solved by phcpy; misses solutions
with a zero coordinate) -> :mod:`.polyhedral_constants` (the same with a constant term
added where one lacks: complete in C^n) -> :mod:`.choice` (which start
:func:`~solver.engine.solve.solve` takes, and the ``max_paths`` refusal).
"""
