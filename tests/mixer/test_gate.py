"""The MixER gate update: K-means, the Hungarian assignment, the least-squares fit and empty clusters."""

import numpy as np
import pytest
import torch

from dsr.errors import InputError
from dsr.mixer.gate import LinearGate, assign_experts, cluster_costs, fit_gate_least_squares, update_gate
from dsr.mixer.kmeans import kmeans


def two_groups(rng, per_group=4, separation=5.0, dim=3):
    left = rng.normal(size=(per_group, dim)) * 0.1 - separation * np.eye(dim)[0]
    right = rng.normal(size=(per_group, dim)) * 0.1 + separation * np.eye(dim)[0]
    return np.concatenate([left, right])


def test_hungarian_routes_where_greedy_fails():
    """Expert 0 is best everywhere, but giving it the left group strands expert 1 on the right group (cost 100).

    Costs (median loss, experts x groups): expert 0: left 1, right 2; expert 1:
    left 3, right 100. Greedy takes the cheapest pair first, (0, left), and
    then must give the right group to expert 1: total 101. The optimum gives
    the left group to expert 1 and the right group to expert 0: total 5.
    """
    rng = np.random.default_rng(0)
    contexts = two_groups(rng)
    left, right = np.arange(4), np.arange(4, 8)
    losses = np.empty((8, 2))
    losses[left] = [1.0, 3.0]
    losses[right] = [2.0, 100.0]

    gate = LinearGate(3, 2)
    update = update_gate(gate, contexts, losses, np.random.default_rng(1))

    assert np.all(update.routing[left] == 1)
    assert np.all(update.routing[right] == 0)
    greedy = assign_experts(update.cost, "greedy")
    assert np.all(greedy[update.clusters[left]] == 0), "greedy should give the left group to expert 0"
    assert update.cost[greedy, np.arange(2)].sum() == pytest.approx(101.0)
    assert update.cost[update.assignment, np.arange(2)].sum() == pytest.approx(5.0)


def test_cluster_costs_are_medians():
    losses = np.array([[1.0, 9.0], [2.0, 8.0], [100.0, 7.0], [5.0, 0.0]])
    clusters = np.array([0, 0, 0, 1])
    cost = cluster_costs(losses, clusters, 2)
    np.testing.assert_allclose(cost, [[2.0, 5.0], [8.0, 0.0]])


def test_assignment_treats_non_finite_cost_as_worst():
    cost = np.array([[np.inf, 1.0], [2.0, np.nan]])
    np.testing.assert_array_equal(assign_experts(cost), [1, 0])


def test_least_squares_reproduces_given_routing():
    """Three separated clusters in d = 4, routed to experts 2, 0, 1: the refitted gate routes every context so."""
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 4)) * 4.0
    labels = np.repeat(np.arange(3), 5)
    contexts = centres[labels] + 0.2 * rng.normal(size=(15, 4))
    targets = np.array([2, 0, 1])[labels]

    weight = fit_gate_least_squares(contexts, targets, 3, noise=0.01, copies=8, rng=rng)
    gate = LinearGate(4, 3)
    with torch.no_grad():
        gate.weight.copy_(torch.as_tensor(weight))
    np.testing.assert_array_equal(gate.route(torch.as_tensor(contexts, dtype=torch.float32)), targets)
    assert weight.shape == (5, 3)


def test_least_squares_with_fewer_environments_than_dimensions():
    """Two environments in d = 6 (an underdetermined fit): the noisy copies still give the routing."""
    rng = np.random.default_rng(3)
    contexts = rng.normal(size=(2, 6))
    weight = fit_gate_least_squares(contexts, np.array([1, 0]), 2, noise=0.05, copies=8, rng=rng)
    gate = LinearGate(6, 2)
    with torch.no_grad():
        gate.weight.copy_(torch.as_tensor(weight))
    np.testing.assert_array_equal(gate.route(torch.as_tensor(contexts, dtype=torch.float32)), [1, 0])


def test_empty_cluster_is_reseeded():
    """A warm start with one centroid far from every point leaves that cluster empty; it is re-seeded, not skipped."""
    rng = np.random.default_rng(4)
    contexts = two_groups(rng)
    centroids = np.array([[0.0, 0.0, 0.0], [1000.0, 1000.0, 1000.0]])

    clustering = kmeans(contexts, 2, rng, initial_centroids=centroids)

    assert clustering.reseeded >= 1
    assert np.bincount(clustering.labels, minlength=2).min() >= 1
    # After re-seeding, Lloyd's iterations recover the two groups.
    assert len(set(clustering.labels[:4])) == 1
    assert len(set(clustering.labels[4:])) == 1
    assert clustering.labels[0] != clustering.labels[4]


def test_gate_update_runs_with_an_empty_cluster():
    rng = np.random.default_rng(5)
    contexts = two_groups(rng)
    losses = np.where(np.arange(8)[:, None] < 4, [[0.1, 1.0]], [[1.0, 0.1]])
    update = update_gate(LinearGate(3, 2), contexts, losses, rng, centroids=np.array([[0.0] * 3, [1e3] * 3]))
    assert update.reseeded >= 1
    np.testing.assert_array_equal(update.routing, [0, 0, 0, 0, 1, 1, 1, 1])


def test_kmeans_on_identical_points():
    """All contexts zero (the start of training): K clusters are still formed, by re-seeding."""
    clustering = kmeans(np.zeros((5, 2)), 3, np.random.default_rng(0))
    assert np.bincount(clustering.labels, minlength=3).min() >= 1


def test_kmeans_needs_enough_points():
    with pytest.raises(InputError, match="at least as many environments as experts"):
        kmeans(np.zeros((2, 2)), 3, np.random.default_rng(0))


def test_gate_update_checks_loss_matrix_shape():
    with pytest.raises(InputError, match="environments x experts"):
        update_gate(LinearGate(2, 2), np.zeros((4, 2)), np.zeros((4, 3)), np.random.default_rng(0))


def test_guard_keeps_routing_that_fits_better():
    """K-means splits an elongated group; the split would put two of its environments on the wrong expert.

    Group A (4 environments near −5) is fitted by expert 0, group B (8
    environments spread from 0 to 14 along one axis) by expert 1. Nearest
    centroids cut B in two, so the proposal moves B's near end to expert 0,
    whose loss there is 10 times higher; the guard keeps the current routing.
    """
    rng = np.random.default_rng(6)
    group_a = np.stack([np.full(4, -5.0), 0.1 * rng.normal(size=4)], axis=1)
    group_b = np.stack([np.linspace(0.0, 14.0, 8), 0.1 * rng.normal(size=8)], axis=1)
    contexts = np.concatenate([group_a, group_b])
    current = np.array([0] * 4 + [1] * 8)
    losses = np.where(current[:, None] == np.arange(2)[None], 0.1, 1.0)

    unguarded = update_gate(LinearGate(2, 2), contexts, losses, np.random.default_rng(7), current=current)
    guarded = update_gate(LinearGate(2, 2), contexts, losses, np.random.default_rng(7), current=current, guard=True)

    assert not np.array_equal(unguarded.targets, current), "the unguarded update should misroute"
    assert not guarded.accepted
    np.testing.assert_array_equal(guarded.targets, current)
    np.testing.assert_array_equal(guarded.routing, current)


def test_guard_accepts_routing_that_fits_better():
    rng = np.random.default_rng(8)
    contexts = two_groups(rng)
    current = np.zeros(8, dtype=np.int64)
    losses = np.where(np.arange(8)[:, None] < 4, [[0.1, 1.0]], [[1.0, 0.1]])
    update = update_gate(LinearGate(3, 2), contexts, losses, rng, current=current, guard=True)
    assert update.accepted
    np.testing.assert_array_equal(update.routing, [0, 0, 0, 0, 1, 1, 1, 1])
