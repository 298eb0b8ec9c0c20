"""``endpoints.cluster`` against a brute-force oracle: the connected components of the
graph "within ``tolerance * (1 + |x|)`` in the max norm" (scipy's cKDTree no longer
runs in it, so the oracle is the definition itself)."""

import numpy as np
import pytest

from solver.engine.endpoints import cluster


def _components(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Labels by union-find over all pairs (O(P^2), the definition)."""
    P = len(points)
    scale = 1.0 + np.abs(points).max(axis=1)
    radius = tolerance * scale.max()
    parent = list(range(P))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    real = np.hstack([points.real, points.imag])
    for a in range(P):
        for b in range(a + 1, P):
            diff = np.abs(points[a] - points[b]).max()
            near = np.abs(real[a] - real[b]).max() <= radius
            if near and diff <= tolerance * max(scale[a], scale[b]):
                parent[find(a)] = find(b)
    roots = [find(i) for i in range(P)]
    first: dict[int, int] = {}
    return np.array([first.setdefault(r, len(first)) for r in roots])


@pytest.mark.parametrize("seed", range(4))
def test_cluster_matches_the_pairwise_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, 3)) + 1j * rng.normal(size=(30, 3))
    # Copies of each centre within 1e-10, chains of points 0.6e-8 apart (joined only
    # through each other), and lone points.
    copies = centres[rng.integers(0, 30, 40)] + 1e-10 * rng.normal(size=(40, 3))
    chain = centres[0] + 0.6e-8 * np.arange(5)[:, None]
    points = np.vstack([centres, copies, chain])[rng.permutation(75)]
    labels = cluster(points, tolerance=1e-8)
    assert np.array_equal(labels, _components(points, 1e-8))
    assert labels.max() + 1 < len(points)  # the copies were merged


def test_cluster_of_points_sharing_a_coordinate() -> None:
    """Every point on x0 = 0: the sweep must use another coordinate, and still be right."""
    rng = np.random.default_rng(7)
    points = np.zeros((60, 2), dtype=complex)
    points[:, 1] = rng.normal(size=60)
    points[30:, 1] = points[:30, 1] + 1e-11
    labels = cluster(points, tolerance=1e-8)
    assert labels.max() + 1 == 30
    assert np.array_equal(labels, _components(points, 1e-8))
