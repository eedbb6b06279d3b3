"""The MixER gate: a linear softmax gate on the contexts, top-1 routing, and its update without gradients.

The gate takes only an environment's context ξ (dimension d) as input:

    g(ξ) = softmax(Gᵀ [ξ; 1]),    G of shape (d + 1) x K,

and routes the environment to the expert argmax_k g_k(ξ). The chosen expert's
output is not scaled by g, so the gate gets no gradient from the loss; MixER
(Nzoyem et al., 2025) instead refits G every few inner steps:

1. the loss of every expert on every environment (an E x K matrix),
2. K-means on the contexts into K clusters (`dsr.mixer.kmeans`),
3. the cost of giving cluster j to expert k: the median loss of expert k
   over the environments of cluster j,
4. a one-to-one assignment of clusters to experts that minimises the total
   cost (the Hungarian method, `scipy.optimize.linear_sum_assignment`; the
   published code assigns greedily, which can miss the optimum),
5. G refitted by least squares to the one-hot targets of the assigned
   experts, on noisy copies of the contexts.

dsr adds a guard between steps 4 and 5 (`guard=True`): the proposed routing
replaces the current one only if it does not raise the summed loss of the
environments under their experts, Σ_e L[e, k(e)]. Otherwise the targets of
step 5 are the current routing. K-means sees only the contexts, and after
the experts have specialised an expert's contexts can drift in directions
that carry some of its environments into another cluster. The median in
step 3 hides a few misrouted environments, but their losses under the wrong
expert do not stay hidden in the sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import nn

from dsr.errors import InputError
from dsr.mixer.kmeans import kmeans


class LinearGate(nn.Module):
    """g(ξ) = softmax(Gᵀ [ξ; 1]) with G (d + 1) x K, initialised at zero (every expert equally likely)."""

    def __init__(self, context_dim: int, n_experts: int) -> None:
        super().__init__()
        self.context_dim, self.n_experts = context_dim, n_experts
        self.weight = nn.Parameter(torch.zeros(context_dim + 1, n_experts))

    def logits(self, contexts: torch.Tensor) -> torch.Tensor:
        """Return Gᵀ [ξ; 1] for contexts (E, d), shape (E, K)."""
        ones = torch.ones(*contexts.shape[:-1], 1, dtype=contexts.dtype, device=contexts.device)
        return torch.cat([contexts, ones], dim=-1) @ self.weight.to(contexts.dtype)

    def probabilities(self, contexts: torch.Tensor) -> torch.Tensor:
        """Return g(ξ) for contexts (E, d), shape (E, K)."""
        return torch.softmax(self.logits(contexts), dim=-1)

    def route(self, contexts: torch.Tensor) -> np.ndarray:
        """Return the top-1 expert of each context (E,); ties go to the lower index."""
        with torch.no_grad():
            return self.logits(contexts).argmax(dim=-1).cpu().numpy()


@dataclass
class GateUpdate:
    """The outcome of one gate update: clusters, costs, assignment and routing.

    Attributes:
        clusters: (E,) K-means cluster of each environment.
        centroids: (K, d) cluster centroids, the warm start of the next update.
        cost: (K, K) median loss of expert k (row) over cluster j (column).
        assignment: (K,) expert assigned to each cluster.
        targets: (E,) the least-squares targets: the expert assigned to each
            environment through its cluster, or the current routing when
            the guard rejected the proposal.
        routing: (E,) top-1 expert of each environment under the refitted gate.
        reseeded: empty clusters re-seeded by K-means.
        accepted: whether the proposed routing was taken (always true
            without the guard or a current routing).
    """

    clusters: np.ndarray
    centroids: np.ndarray
    cost: np.ndarray
    assignment: np.ndarray
    targets: np.ndarray
    routing: np.ndarray
    reseeded: int
    accepted: bool = True


def cluster_costs(loss_matrix: np.ndarray, clusters: np.ndarray, n_clusters: int) -> np.ndarray:
    """Return C (K experts x K clusters), C[k, j] = median of expert k's losses over the environments of cluster j.

    An empty cluster costs the same for every expert (zero), so it does not
    change the assignment of the others.
    """
    loss_matrix = np.asarray(loss_matrix, dtype=np.float64)
    cost = np.zeros((loss_matrix.shape[1], n_clusters))
    for cluster in range(n_clusters):
        members = clusters == cluster
        if members.any():
            cost[:, cluster] = np.median(loss_matrix[members], axis=0)
    return cost


def assign_experts(cost: np.ndarray, method: str = "hungarian") -> np.ndarray:
    """Return the expert of each cluster (K,) from a cost matrix (experts x clusters).

    "hungarian" minimises the total cost over one-to-one assignments.
    "greedy" repeatedly takes the cheapest remaining (expert, cluster) pair,
    as the published MixER code does; it is kept to show where it fails.
    Non-finite costs (a diverged expert) count as larger than any finite cost.
    """
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[0] != cost.shape[1]:
        raise InputError(f"The cost matrix must be square (experts x clusters), got shape {cost.shape}.")
    finite = np.isfinite(cost)
    ceiling = (np.abs(cost[finite]).max() if finite.any() else 0.0) * 10.0 + 1.0
    cost = np.where(finite, cost, ceiling)

    if method == "hungarian":
        experts, clusters = linear_sum_assignment(cost)
        assignment = np.empty(len(clusters), dtype=np.int64)
        assignment[clusters] = experts
        return assignment
    if method == "greedy":
        assignment = np.full(cost.shape[1], -1, dtype=np.int64)
        remaining = cost.copy()
        for _ in range(cost.shape[1]):
            expert, cluster = np.unravel_index(np.argmin(remaining), remaining.shape)
            assignment[cluster] = expert
            remaining[expert, :] = np.inf
            remaining[:, cluster] = np.inf
        return assignment
    raise InputError(f"Unknown assignment method {method!r}; expected 'hungarian' or 'greedy'.")


def fit_gate_least_squares(contexts: np.ndarray, targets: np.ndarray, n_experts: int, noise: float,
                           copies: int, rng: np.random.Generator) -> np.ndarray:
    """Return G ((d + 1) x K) minimising ‖X G − Y‖² over noisy copies of the contexts.

    X stacks `copies` copies of [ξ_e + ε; 1] with ε ~ N(0, s²) and
    s = noise x (RMS distance of the contexts from their mean); Y contains the
    one-hot rows of `targets`. The noise spreads each context into a small
    cloud, which keeps the fit well posed when there are fewer environments
    than d + 1 and moves the decision boundaries away from the points.
    """
    contexts = np.asarray(contexts, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.int64)
    spread = float(np.sqrt(np.mean(np.sum((contexts - contexts.mean(axis=0)) ** 2, axis=1))))
    scale = noise * spread
    repeated = np.repeat(contexts, copies, axis=0)
    noisy = repeated + scale * rng.standard_normal(repeated.shape)
    design = np.concatenate([noisy, np.ones((len(noisy), 1))], axis=1)
    one_hot = np.eye(n_experts)[np.repeat(targets, copies)]
    weight, *_ = np.linalg.lstsq(design, one_hot, rcond=None)
    return weight


def routed_loss(loss_matrix: np.ndarray, routing: np.ndarray) -> float:
    """Return Σ_e L[e, k(e)], the summed loss of the environments under the experts they are routed to."""
    loss_matrix = np.asarray(loss_matrix, dtype=np.float64)
    return float(loss_matrix[np.arange(len(loss_matrix)), np.asarray(routing)].sum())


def update_gate(gate: LinearGate, contexts: np.ndarray, loss_matrix: np.ndarray, rng: np.random.Generator,
                centroids: np.ndarray | None = None, noise: float = 0.01, copies: int = 8,
                method: str = "hungarian", current: np.ndarray | None = None, guard: bool = False) -> GateUpdate:
    """Run steps 2 to 5 of the module docstring and write the refitted G into `gate`.

    Args:
        contexts: (E, d) the environments' contexts.
        loss_matrix: (E, K) the loss of every expert on every environment.
        centroids: the previous update's centroids (warm start), or None
            for k-means++ seeds.
        noise, copies: the least-squares noise (see `fit_gate_least_squares`).
        method: "hungarian" or "greedy" assignment.
        current: (E,) the routing in use, which the guard compares with.
        guard: keep `current` when the proposal raises the summed loss.
    """
    contexts = np.asarray(contexts, dtype=np.float64)
    loss_matrix = np.asarray(loss_matrix, dtype=np.float64)
    n_experts = gate.n_experts
    if loss_matrix.shape != (len(contexts), n_experts):
        raise InputError(f"The loss matrix must have shape {(len(contexts), n_experts)} (environments x experts), "
                         f"got {loss_matrix.shape}.")

    clustering = kmeans(contexts, n_experts, rng, centroids)
    cost = cluster_costs(loss_matrix, clustering.labels, n_experts)
    assignment = assign_experts(cost, method)
    targets = assignment[clustering.labels]
    accepted = True
    if guard and current is not None and routed_loss(loss_matrix, targets) > routed_loss(loss_matrix, current):
        targets, accepted = np.asarray(current, dtype=np.int64).copy(), False

    weight = fit_gate_least_squares(contexts, targets, n_experts, noise, copies, rng)
    with torch.no_grad():
        gate.weight.copy_(torch.as_tensor(weight, dtype=gate.weight.dtype))
    routing = gate.route(torch.as_tensor(contexts, dtype=gate.weight.dtype))
    return GateUpdate(clusters=clustering.labels, centroids=clustering.centroids, cost=cost, assignment=assignment,
                      targets=targets, routing=routing, reseeded=clustering.reseeded, accepted=accepted)
