"""Numba kernels of the fused forced recurrence: forward pass and backpropagation through time.

Each model has one module with a `forward` and a `backward` function. They
work on numpy arrays with a leading ensemble axis K on every parameter and
input, loop over members, sequences and time steps in a fixed order on one
thread, and write their results into arrays that the caller allocates. The
same inputs therefore give the same bits, whatever the other members are.
Importing a kernel module imports numba, so `dsr.training.fused` imports
them lazily.

Shared notation (T steps, B sequences, M latent units, of which the first
D ≤ M can be forced):

    z̃_{−1} = z0,
    z_t = F(z̃_{t−1}),                                t = 0, ..., T − 1,
    z̃_t = r_t ⊙ z_t + c_t ⊙ ẑ_t   on units 1..D,   z̃_t = z_t on the others,

with the inferred states ẑ (K, B, T, D), the forcing weights c_t (K, T, D)
and the retained fractions r_t = 1 − c_t (K, T, D). The caller precomputes
c and r, so that the kernels share their rounding with the PyTorch forcing
code.
"""
