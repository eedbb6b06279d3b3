"""AL-RNN kernels: z_t = A ⊙ z̃_{t−1} + W φ(z̃_{t−1}) + h, φ = ReLU on the last P units.

Backward pass (BPTT), for the loss gradient g_t = ∂L/∂z_t of the returned
states and λ_t = dL/dz̃_t (λ_{T−1} = 0, since the last forced state is
never used):

    δ_t = g_t + r_t ⊙ λ_t               (dL/dz_t)
    dL/dẑ_t = c_t ⊙ λ_t
    λ_{t−1} = A ⊙ δ_t + φ′(z̃_{t−1}) ⊙ (Wᵀ δ_t)
    dL/dA += δ_t ⊙ z̃_{t−1},  dL/dW += δ_t φ(z̃_{t−1})ᵀ,  dL/dh += δ_t,

and dL/dz0 = λ_{−1}, with r_t = 1 and c_t = 0 on the units beyond D. φ′ is 1 on the linear units and 1[z > 0] on the ReLU
units, the subgradient 0 at z = 0 that torch.relu uses too. The matrix
products are written as loops whose innermost index is contiguous and
carries no reduction, so LLVM vectorises them without reassociating sums.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _forced_state(states, inferred, retained, forcing, k, b, t, out):
    """Write z̃_t of member k, sequence b into `out` (the same expression in both passes)."""
    forced = inferred.shape[3]
    for i in range(forced):
        out[i] = retained[k, t, i] * states[k, b, t, i] + forcing[k, t, i] * inferred[k, b, t, i]
    for i in range(forced, out.shape[0]):
        out[i] = states[k, b, t, i]


@njit(cache=True)
def forward(A, W, h, n_relu, z0, inferred, retained, forcing, states):
    """Run the forced recurrence; fill `states` (K, B, T, M) with z_t before forcing."""
    n_members, n_sequences, n_steps, latent = states.shape
    forced = inferred.shape[3]
    first_relu = latent - n_relu
    transposed = np.empty((latent, latent), dtype=W.dtype)
    previous = np.empty(latent, dtype=z0.dtype)
    activated = np.empty(latent, dtype=z0.dtype)
    product = np.empty(latent, dtype=z0.dtype)

    for k in range(n_members):
        # Wᵀ makes the inner loop of W φ run over contiguous memory.
        for i in range(latent):
            for j in range(latent):
                transposed[j, i] = W[k, i, j]

        for b in range(n_sequences):
            previous[:] = z0[k, b]
            for t in range(n_steps):
                # φ lets NaN through, as torch.relu does.
                for j in range(latent):
                    activated[j] = previous[j]
                    if j >= first_relu and previous[j] <= 0:
                        activated[j] = 0.0
                product[:] = 0.0
                for j in range(latent):
                    weight = activated[j]
                    for i in range(latent):
                        product[i] += transposed[j, i] * weight
                # z_t, then z̃_t by the expression of _forced_state.
                for i in range(forced):
                    value = (A[k, i] * previous[i] + product[i]) + h[k, i]
                    states[k, b, t, i] = value
                    previous[i] = retained[k, t, i] * value + forcing[k, t, i] * inferred[k, b, t, i]
                for i in range(forced, latent):
                    value = (A[k, i] * previous[i] + product[i]) + h[k, i]
                    states[k, b, t, i] = value
                    previous[i] = value


@njit(cache=True)
def backward(A, W, n_relu, z0, inferred, retained, forcing, states, grad_states,
             grad_A, grad_W, grad_h, grad_z0, grad_inferred):
    """Backpropagate `grad_states` (K, B, T, M) and fill every gradient array."""
    n_members, n_sequences, n_steps, latent = states.shape
    forced = inferred.shape[3]
    first_relu = latent - n_relu
    previous = np.empty(latent, dtype=z0.dtype)
    activated = np.empty(latent, dtype=z0.dtype)
    delta = np.empty(latent, dtype=z0.dtype)
    adjoint = np.empty(latent, dtype=z0.dtype)
    back = np.empty(latent, dtype=z0.dtype)
    grad_A[:] = 0.0
    grad_W[:] = 0.0
    grad_h[:] = 0.0

    for k in range(n_members):
        for b in range(n_sequences):
            adjoint[:] = 0.0
            for t in range(n_steps - 1, -1, -1):
                for i in range(forced):
                    delta[i] = grad_states[k, b, t, i] + retained[k, t, i] * adjoint[i]
                    grad_inferred[k, b, t, i] = forcing[k, t, i] * adjoint[i]
                for i in range(forced, latent):
                    delta[i] = grad_states[k, b, t, i] + adjoint[i]

                # Recompute z̃_{t−1} instead of storing it: the expression
                # is the forward pass's, so the values are identical.
                if t == 0:
                    previous[:] = z0[k, b]
                else:
                    _forced_state(states, inferred, retained, forcing, k, b, t - 1, previous)
                for j in range(latent):
                    activated[j] = previous[j]
                    if j >= first_relu and previous[j] <= 0:
                        activated[j] = 0.0

                for i in range(latent):
                    grad_A[k, i] += delta[i] * previous[i]
                    grad_h[k, i] += delta[i]
                back[:] = 0.0
                for i in range(latent):
                    weight = delta[i]
                    for j in range(latent):
                        grad_W[k, i, j] += weight * activated[j]
                        back[j] += W[k, i, j] * weight
                for j in range(latent):
                    if j < first_relu or previous[j] > 0:
                        adjoint[j] = A[k, j] * delta[j] + back[j]
                    else:
                        adjoint[j] = A[k, j] * delta[j]
            grad_z0[k, b] = adjoint
