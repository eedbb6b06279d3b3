"""K-means on context vectors, warm-started, with k-means++ seeding and re-seeding of empty clusters.

The gate update clusters the E environment contexts into K clusters, one per
expert, after every few inner steps. Warm starts from the previous centroids
keep the cluster labels stable from one update to the next. A cluster that
ends up empty is re-seeded with the point farthest from its own centroid,
taken from a cluster with at least two points, so every update yields K
non-empty clusters whenever E ≥ K. (The published MixER code skips the gate
update instead when a cluster is empty.)

Reference for the seeding: D. Arthur and S. Vassilvitskii, "k-means++: The
Advantages of Careful Seeding", SODA 2007.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsr.errors import InputError

# Lloyd iterations stop after this many, or when no label changes.
MAX_ITERATIONS = 100


@dataclass
class Clustering:
    """Result of `kmeans`.

    Attributes:
        labels: (E,) cluster of each point, in 0..K−1.
        centroids: (K, d) cluster means.
        reseeded: how many times an empty cluster was re-seeded.
        iterations: Lloyd iterations run.
    """

    labels: np.ndarray
    centroids: np.ndarray
    reseeded: int
    iterations: int


def kmeans_plus_plus(points: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Return K initial centroids drawn by k-means++ (each next one with probability ∝ D², squared distance).

    When all remaining D² are zero (coincident points, as at the start of
    training when every context is zero), the next centroid is drawn
    uniformly among the points.
    """
    first = int(rng.integers(len(points)))
    centroids = [points[first]]
    for _ in range(1, n_clusters):
        squared = np.min(((points[:, None, :] - np.asarray(centroids)[None]) ** 2).sum(-1), axis=1)
        total = squared.sum()
        if total > 0:
            index = int(rng.choice(len(points), p=squared / total))
        else:
            index = int(rng.integers(len(points)))
        centroids.append(points[index])
    return np.asarray(centroids, dtype=np.float64)


def kmeans(points: np.ndarray, n_clusters: int, rng: np.random.Generator,
           initial_centroids: np.ndarray | None = None) -> Clustering:
    """Cluster points (E, d) into K clusters by Lloyd's algorithm.

    Starts from `initial_centroids` (K, d) when given (a warm start), else
    from k-means++ seeds. Ties go to the lower cluster index. Empty clusters
    are re-seeded as the module docstring describes.

    Raises InputError when there are fewer points than clusters.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2:
        raise InputError(f"K-means needs points of shape (E, d), got {points.shape}.")
    if len(points) < n_clusters:
        raise InputError(f"K-means cannot form {n_clusters} non-empty clusters from {len(points)} points; "
                         "use at least as many environments as experts.")
    if initial_centroids is None:
        centroids = kmeans_plus_plus(points, n_clusters, rng)
    else:
        centroids = np.array(initial_centroids, dtype=np.float64)
        if centroids.shape != (n_clusters, points.shape[1]):
            raise InputError(f"Initial centroids must have shape {(n_clusters, points.shape[1])}, got {centroids.shape}.")

    labels = np.full(len(points), -1)
    reseeded = 0
    for iteration in range(1, MAX_ITERATIONS + 1):
        distances = ((points[:, None, :] - centroids[None]) ** 2).sum(-1)
        new_labels = np.argmin(distances, axis=1)
        new_labels, count = _reseed_empty(points, new_labels, distances, n_clusters)
        reseeded += count
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centroids = np.stack([points[labels == k].mean(axis=0) for k in range(n_clusters)])
    return Clustering(labels=labels, centroids=centroids, reseeded=reseeded, iterations=iteration)


def _reseed_empty(points: np.ndarray, labels: np.ndarray, distances: np.ndarray,
                  n_clusters: int) -> tuple[np.ndarray, int]:
    """Give each empty cluster the point farthest from its centroid among clusters of two or more points."""
    labels = labels.copy()
    count = 0
    for cluster in range(n_clusters):
        if np.any(labels == cluster):
            continue
        sizes = np.bincount(labels, minlength=n_clusters)
        movable = sizes[labels] >= 2
        own_distance = np.where(movable, distances[np.arange(len(points)), labels], -np.inf)
        labels[int(np.argmax(own_distance))] = cluster
        count += 1
    return labels, count
