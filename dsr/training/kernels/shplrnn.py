"""Shallow PLRNN kernels, standard and clipped.

    p_t = W₂ z̃_{t−1},   r_t = ReLU(p_t + h₂) [− ReLU(p_t) if clipped],
    z_t = A ⊙ z̃_{t−1} + W₁ r_t + h₁.

The forward pass stores p_t (K, B, T, L) for the backward pass. With
δ_t = dL/dz_t and λ_t = dL/dz̃_t as in the AL-RNN kernels,

    e = W₁ᵀ δ_t,   u = e ⊙ (1[p_t + h₂ > 0] − 1[p_t > 0] if clipped),
    λ_{t−1} = A ⊙ δ_t + W₂ᵀ u,
    dL/dA += δ_t ⊙ z̃_{t−1},  dL/dW₁ += δ_t r_tᵀ,  dL/dh₁ += δ_t,
    dL/dW₂ += u z̃_{t−1}ᵀ,    dL/dh₂ += e ⊙ 1[p_t + h₂ > 0].

ReLU′(0) = 0, as in torch.relu.
"""

from __future__ import annotations

import numpy as np
from numba import njit


# Numba's cache checks only the source file of the cached function itself,
# so a helper imported from another kernel module could go stale. Each
# kernel module keeps its own copy.
@njit(cache=True)
def _forced_state(states, inferred, retained, forcing, k, b, t, out):
    """Write z̃_t of member k, sequence b into `out` (the same expression in both passes)."""
    forced = inferred.shape[3]
    for i in range(forced):
        out[i] = retained[k, t, i] * states[k, b, t, i] + forcing[k, t, i] * inferred[k, b, t, i]
    for i in range(forced, out.shape[0]):
        out[i] = states[k, b, t, i]


@njit(cache=True)
def _hidden(projected, h2, clipped, k, b, t, out):
    """Write r_t of member k, sequence b into `out` from the stored p_t."""
    for n in range(out.shape[0]):
        value = projected[k, b, t, n]
        shifted = value + h2[k, n]
        out[n] = shifted
        if shifted <= 0:
            out[n] = 0.0
        if clipped and value > 0:
            out[n] -= value


@njit(cache=True)
def forward(A, W1, W2, h1, h2, clipped, z0, inferred, retained, forcing, states, projected):
    """Run the forced recurrence; fill `states` (K, B, T, M) and `projected` (K, B, T, L)."""
    n_members, n_sequences, n_steps, latent = states.shape
    forced = inferred.shape[3]
    width = W1.shape[2]
    transposed_in = np.empty((latent, width), dtype=W2.dtype)
    transposed_out = np.empty((width, latent), dtype=W1.dtype)
    previous = np.empty(latent, dtype=z0.dtype)
    hidden = np.empty(width, dtype=z0.dtype)
    product = np.empty(latent, dtype=z0.dtype)

    for k in range(n_members):
        # Transposes make the inner loops of W₂ z and W₁ r run over contiguous memory.
        for n in range(width):
            for j in range(latent):
                transposed_in[j, n] = W2[k, n, j]
                transposed_out[n, j] = W1[k, j, n]

        for b in range(n_sequences):
            previous[:] = z0[k, b]
            for t in range(n_steps):
                projected[k, b, t] = 0.0
                for j in range(latent):
                    value = previous[j]
                    for n in range(width):
                        projected[k, b, t, n] += transposed_in[j, n] * value
                _hidden(projected, h2, clipped, k, b, t, hidden)

                product[:] = 0.0
                for n in range(width):
                    activity = hidden[n]
                    for i in range(latent):
                        product[i] += transposed_out[n, i] * activity
                # z_t, then z̃_t by the expression of _forced_state.
                for i in range(forced):
                    value = (A[k, i] * previous[i] + product[i]) + h1[k, i]
                    states[k, b, t, i] = value
                    previous[i] = retained[k, t, i] * value + forcing[k, t, i] * inferred[k, b, t, i]
                for i in range(forced, latent):
                    value = (A[k, i] * previous[i] + product[i]) + h1[k, i]
                    states[k, b, t, i] = value
                    previous[i] = value


@njit(cache=True)
def backward(A, W1, W2, h2, clipped, z0, inferred, retained, forcing, states, grad_states, projected,
             grad_A, grad_W1, grad_W2, grad_h1, grad_h2, grad_z0, grad_inferred):
    """Backpropagate `grad_states` (K, B, T, M); fill the gradient arrays (parameter ones are zeroed here)."""
    n_members, n_sequences, n_steps, latent = states.shape
    forced = inferred.shape[3]
    width = W1.shape[2]
    previous = np.empty(latent, dtype=z0.dtype)
    delta = np.empty(latent, dtype=z0.dtype)
    adjoint = np.empty(latent, dtype=z0.dtype)
    back = np.empty(latent, dtype=z0.dtype)
    hidden = np.empty(width, dtype=z0.dtype)
    spread = np.empty(width, dtype=z0.dtype)
    gated = np.empty(width, dtype=z0.dtype)
    grad_A[:] = 0.0
    grad_W1[:] = 0.0
    grad_W2[:] = 0.0
    grad_h1[:] = 0.0
    grad_h2[:] = 0.0

    for k in range(n_members):
        for b in range(n_sequences):
            adjoint[:] = 0.0
            for t in range(n_steps - 1, -1, -1):
                for i in range(forced):
                    delta[i] = grad_states[k, b, t, i] + retained[k, t, i] * adjoint[i]
                    grad_inferred[k, b, t, i] = forcing[k, t, i] * adjoint[i]
                for i in range(forced, latent):
                    delta[i] = grad_states[k, b, t, i] + adjoint[i]

                if t == 0:
                    previous[:] = z0[k, b]
                else:
                    _forced_state(states, inferred, retained, forcing, k, b, t - 1, previous)
                _hidden(projected, h2, clipped, k, b, t, hidden)

                for i in range(latent):
                    grad_A[k, i] += delta[i] * previous[i]
                    grad_h1[k, i] += delta[i]
                spread[:] = 0.0
                for i in range(latent):
                    weight = delta[i]
                    for n in range(width):
                        grad_W1[k, i, n] += weight * hidden[n]
                        spread[n] += W1[k, i, n] * weight

                for n in range(width):
                    value = projected[k, b, t, n]
                    gated[n] = 0.0
                    if value + h2[k, n] > 0:
                        grad_h2[k, n] += spread[n]
                        gated[n] = spread[n]
                    if clipped and value > 0:
                        gated[n] = gated[n] - spread[n]

                back[:] = 0.0
                for n in range(width):
                    weight = gated[n]
                    for j in range(latent):
                        grad_W2[k, n, j] += weight * previous[j]
                        back[j] += W2[k, n, j] * weight
                for j in range(latent):
                    adjoint[j] = A[k, j] * delta[j] + back[j]
            grad_z0[k, b] = adjoint
