"""The network side: layer specs (:mod:`~solver.networks.spec`), activations and their
polynomial surrogates, the gradient system of the surrogate loss, its linear product
structure, its critical points (exact mode), neuron symmetry, and weight files."""
