"""The Lozi map written exactly as an AL-RNN, a reference model with known symbolic dynamics.

The Lozi map x' = 1 − a|x| + y, y' = b x is piecewise linear with two
pieces, x > 0 and x < 0. Its Lyapunov exponents at a = 1.7, b = 0.5 are
about 0.4709 and −1.1640 per step (QR estimate, see the system catalogue).
The partition by the sign of x is taken to be generating, so that the code
of the sign of x carries the map's whole metric entropy. The block entropies
of that code agree: H(13) − H(12) = 0.4715 per step from 10^6 symbols.
"""

from __future__ import annotations

import torch

from dsr.models.alrnn import ALRNN


def lozi_alrnn(a: float = 1.7, b: float = 0.5) -> ALRNN:
    """Build a float64 AL-RNN (M = 4, P = 2, identity readout of N = 2) whose orbits follow the Lozi map exactly.

    The latent state is z = (x, y, u, v), where u and v are ReLU units that
    carry copies of x and −x, so that |x| = ReLU(u) + ReLU(v) is available in
    the same step. With A = 0 and

        x' = 1 − a ReLU(u) − a ReLU(v) + y
        y' = b x
        u' = x'                       (the same row of W and h as x')
        v' = −x'                      (the negated row)

    u = x and v = −x are true after every step. They are also true at the
    start, because the readout's initial state is initial_state((x, y)) =
    (x, y, x, −x), that is L = [[1, 0], [−1, 0]]. Then (x, y) follow the Lozi
    map to round-off. Only one of the two ReLU units is on at a time: the
    subregion pattern (u > 0, v > 0) is "10" for x > 0 and "01" for x < 0, the
    two-symbol code of the sign of x. The patterns "00" (x = 0) and "11"
    (impossible on the invariant set) are never visited, but their affine maps
    have virtual fixed points.

    The Jacobian has rank 2 at every state (its u and v columns are multiples
    of its y column), so two of the four Lyapunov exponents are −∞: its null
    space, spanned by (0, a, 1, 0) and (0, 0, 0, 1) where x > 0 and by
    (0, a, 0, 1) and (0, 0, 1, 0) where x < 0, is mapped to zero in one step. The two largest exponents are the Lozi map's
    (0.4709 and −1.1640 per step). Ask the QR method
    (`dsr.analysis.lyapunov.lyapunov_spectrum`) for two exponents: asked for
    four, its third tangent vector collapses to exactly zero and it raises
    NumericalError.
    """
    model = ALRNN(obs_dim=2, latent_dim=4, n_relu=2).double()
    weights = torch.tensor([
        [0.0, 1.0, -a, -a],
        [b, 0.0, 0.0, 0.0],
        [0.0, 1.0, -a, -a],
        [0.0, -1.0, a, a],
    ], dtype=torch.float64)
    with torch.no_grad():
        model.A.zero_()
        model.W.copy_(weights)
        model.h.copy_(torch.tensor([1.0, 0.0, 1.0, -1.0], dtype=torch.float64))
        model.observation.L.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]], dtype=torch.float64))
    return model
