"""The network side: layer specs (:mod:`~solver.networks.spec`), activations and their
polynomial surrogates, the gradient system of the surrogate loss, its linear product
structure, its critical points (exact mode), neuron symmetry, and weight files.

Implements the network side of Chen, Hao and He, "A weight initialization based on the
linear product structure for neural networks", Applied Mathematics and Computation 415,
2022 (arXiv 2109.00125; DESIGN.md).
"""
