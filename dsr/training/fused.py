"""The fused forced rollout: the whole teacher-forced recurrence and its BPTT as one autograd node.

`forced_rollout` (dsr.training.forcing) runs several PyTorch operations per
time step, so a batch at the AL-RNN paper's configuration (M = 20, P = 2,
16 sequences of 200 steps) spends almost all its time in dispatch and
autograd bookkeeping for about 8 MFLOP of arithmetic. Here the latent
recurrence over all steps runs as one numba-compiled loop, and its
hand-derived backward pass as another (`dsr.training.kernels`):

    z̃_{−1} = z0,   z_t = F(z̃_{t−1}),   z̃_t = (1 − c_t) ⊙ z_t + c_t ⊙ ẑ_t,

with c_t = α_t m, the forcing mask m of the observation model (1 on the
units that forcing touches), and α_t = α every step for generalized teacher
forcing, or α_t = 1 every τ-th step and 0 otherwise for sparse forcing.
Everything that involves the observation model stays in PyTorch, so autograd
handles the readout, the initial state and the pseudo-inverse of the affine
observation: z0 = initial_state(x_0), ẑ_t from x_t (`inferred_states`) and
predictions = observe(z_t).

`fused_rollout` returns what `forced_rollout` returns, up to the rounding of
the matrix products, whose sums the kernels accumulate in their own order.
The kernels run on the CPU in float32 and float64, on one thread, and
`fused_available` checks whether a model can use them.
"""

from __future__ import annotations

import importlib
import logging
import time
from types import ModuleType
from typing import Sequence

import torch
from torch import nn

from dsr.errors import InputError
from dsr.models.alrnn import ALRNN
from dsr.models.base import ReconstructionModel
from dsr.models.observation import AffineObservation, IdentityObservation
from dsr.models.shplrnn import ShallowPLRNN

logger = logging.getLogger(__name__)

SUPPORTED_DTYPES = (torch.float32, torch.float64)

# Recurrence parameters each kernel takes, in this order, with a leading
# ensemble axis. The observation model's parameters never reach a kernel.
CORE_PARAMETERS = {"alrnn": ("A", "W", "h"), "shplrnn": ("A", "W1", "W2", "h1", "h2")}

# Forcing weights by (alphas, mode, interval, steps, mask, dtype); cleared when full.
_WEIGHTS_CACHE_SIZE = 64
_weights_cache: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}

# (kernel kind, dtype) pairs compiled or loaded from numba's cache in this process.
_ready: set[tuple[str, torch.dtype]] = set()


def kernel_kind(model: ReconstructionModel) -> str | None:
    """Return the kernel family of `model` ("alrnn" or "shplrnn"), or None if no kernel fits it."""
    if type(model) is ALRNN:
        return "alrnn"
    if type(model) is ShallowPLRNN:
        return "shplrnn"
    return None


def kernel_options(model: ReconstructionModel) -> tuple:
    """Return the architecture constants a kernel needs besides the parameters (P, or whether clipped)."""
    if kernel_kind(model) == "alrnn":
        return (int(model.n_relu),)
    return (bool(model.clipped),)


def fused_available(model: ReconstructionModel, device: torch.device | str) -> tuple[bool, str]:
    """Return (True, "") if `fused_rollout` can train `model` on `device`, else (False, the reason).

    Compiles the kernels for the model's dtype on first use (numba caches
    the machine code on disk, so later processes load it in well under a
    second), which is why this can take several seconds once.
    """
    device = torch.device(device)
    if device.type != "cpu":
        return False, f"the fused kernels run on the CPU only, and the model trains on {device}"
    kind = kernel_kind(model)
    if kind is None:
        return False, f"there is no fused kernel for {type(model).__name__}"
    if not hasattr(model.observation, "forcing_mask"):
        return False, f"the observation model {type(model.observation).__name__} has no forcing mask"
    dtype = next(model.parameters()).dtype
    if dtype not in SUPPORTED_DTYPES:
        return False, f"the fused kernels support float32 and float64, not {dtype}"

    try:
        from numba.core.errors import NumbaError
    except ImportError as error:
        return False, f"numba could not be imported ({error})"
    try:
        prepare_kernels(kind, dtype)
    except (NumbaError, RuntimeError, OSError) as error:
        # RuntimeError and OSError come from numba's disk cache (no writable location).
        logger.warning("compiling the fused %s kernels failed: %s", kind, error)
        return False, f"numba failed to compile the fused {kind} kernels ({type(error).__name__}: {error})"
    return True, ""


def fused_rollout(
    model: ReconstructionModel,
    x: torch.Tensor,
    alpha: float,
    mode: str = "gtf",
    interval: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the model along observed sequences with teacher forcing, as `forced_rollout` does.

    Args:
        x: observations, shape (B, T + 1, N); x[:, 0] sets the initial state.
        alpha: forcing strength for mode "gtf".
        mode: "gtf" (every step, strength α) or "sparse" (α = 1 every
            `interval` steps, no forcing otherwise).

    Returns:
        predictions G(z_t) for t = 1..T, shape (B, T, N), made before forcing,
        and the unforced states z_t, shape (B, T, M).

    Raises InputError for a mode other than "gtf" or "sparse", or a model
    without a kernel (check `fused_available` first).
    """
    kind = kernel_kind(model)
    if kind is None:
        raise InputError(f"There is no fused kernel for {type(model).__name__}; train it with forced_rollout.")
    dtype = next(model.parameters()).dtype

    z0 = model.initial_state(x[:, 0])
    inferred = inferred_states(model.observation, x[:, 1:])
    mask = model.observation.forcing_mask()[: inferred.shape[-1]]
    retained, forcing = forcing_weights((float(alpha),), mode, interval, x.shape[1] - 1, mask, dtype)
    core = [getattr(model, name).unsqueeze(0) for name in CORE_PARAMETERS[kind]]

    states = fused_recurrence(kind, kernel_options(model), z0.unsqueeze(0), inferred.unsqueeze(0), retained, forcing,
                              core)[0]
    return model.observe(states), states


def inferred_states(observation: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return ẑ_t (..., T, D): the first D units of the state that full forcing (α = 1) sets from x_t.

    For the identity observation ẑ is x itself (D = N), since forcing only
    touches the first N units. Otherwise D = M: ẑ = B⁺(x − b) for the affine
    observation, and for other observation models the result of forcing a
    zero state with α = 1, which is ẑ exactly because (1 − 1)·0 = 0.
    """
    if isinstance(observation, IdentityObservation):
        return x
    if isinstance(observation, AffineObservation):
        return observation.infer(x)
    zeros = torch.zeros(*x.shape[:-1], observation.latent_dim, dtype=x.dtype, device=x.device)
    return observation.force(zeros, x, 1.0)


def forcing_weights(alphas: Sequence[float], mode: str, interval: int, n_steps: int, mask: torch.Tensor,
                    dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Return the retained fractions 1 − α_t m and the forcing weights α_t m, each (K, T, D) in `dtype`.

    α_t = alphas[k] at every step for mode "gtf"; for mode "sparse", α_t = 1
    at the steps t = 1..T with t mod `interval` = 0 and 0 elsewhere. `mask`
    (D,) is the observation model's forcing mask over the forced units.
    1 − α_t is formed in float64 and then rounded, as PyTorch rounds the
    Python float (1 − α) in `observation.force`, so the forced states match
    the reference rollout's bit for bit given the same z_t. Results are
    cached, because α changes at most every few batches.
    """
    if mode not in ("gtf", "sparse"):
        raise InputError(f"Unknown forcing mode {mode!r}; expected 'gtf' or 'sparse'.")
    if mode == "sparse" and interval < 1:
        raise InputError(f"The sparse forcing interval must be at least 1, got {interval}.")
    on = tuple(bool(value) for value in mask.tolist())
    members = tuple(float(alpha) for alpha in alphas) if mode == "gtf" else len(alphas)
    key = (members, mode, interval if mode == "sparse" else 0, n_steps, on, dtype)
    if key not in _weights_cache:
        if len(_weights_cache) >= _WEIGHTS_CACHE_SIZE:
            _weights_cache.clear()
        _weights_cache[key] = _compute_forcing_weights(alphas, mode, interval, n_steps, torch.tensor(on), dtype)
    return _weights_cache[key]


def _compute_forcing_weights(alphas: Sequence[float], mode: str, interval: int, n_steps: int, on: torch.Tensor,
                             dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    n_members = len(alphas)
    if mode == "gtf":
        strength = torch.tensor([float(alpha) for alpha in alphas], dtype=torch.float64)[:, None].expand(-1, n_steps)
    else:
        steps = torch.arange(1, n_steps + 1)
        strength = (steps % interval == 0).to(torch.float64)[None, :].expand(n_members, -1)
    strength = strength[:, :, None]
    forcing = torch.where(on, strength, 0.0).to(dtype).contiguous()
    retained = torch.where(on, 1.0 - strength, 1.0).to(dtype).contiguous()
    return retained, forcing


def fused_recurrence(
    kind: str,
    options: tuple,
    z0: torch.Tensor,
    inferred: torch.Tensor,
    retained: torch.Tensor,
    forcing: torch.Tensor,
    core: Sequence[torch.Tensor],
) -> torch.Tensor:
    """Return the unforced states z_t (K, B, T, M) of K models, differentiable in z0, ẑ and the parameters.

    Shapes: z0 (K, B, M), inferred ẑ (K, B, T, D), retained and forcing
    (K, T, D) from `forcing_weights`. ẑ covers the first D ≤ M units, and the
    others are never forced. `core` holds the stacked parameters named in
    CORE_PARAMETERS[kind].
    """
    dtype = core[0].dtype
    prepare_kernels(kind, dtype)
    return _FusedRecurrence.apply(kind, options, z0.to(dtype), inferred.to(dtype), retained, forcing, *core)


def prepare_kernels(kind: str, dtype: torch.dtype) -> None:
    """Compile the kernels of `kind` for `dtype`, or load them from numba's disk cache, once per process."""
    if (kind, dtype) in _ready:
        return
    module = _kernel_module(kind)
    logger.info("preparing the fused %s kernels for %s (numba compiles them once, then loads them from its cache)",
                kind, dtype)
    started = time.perf_counter()
    _run_on_tiny_input(kind, dtype)
    hits = sum(module.forward.stats.cache_hits.values()) + sum(module.backward.stats.cache_hits.values())
    source = "loaded from the cache" if hits else "compiled"
    logger.info("fused %s kernels for %s %s in %.1f s", kind, dtype, source, time.perf_counter() - started)
    _ready.add((kind, dtype))


def _kernel_module(kind: str) -> ModuleType:
    return importlib.import_module(f"dsr.training.kernels.{kind}")


def _run_on_tiny_input(kind: str, dtype: torch.dtype) -> None:
    """Call both kernels once with the argument types of real calls, which makes numba compile them."""
    latent, hidden = 3, 2
    shapes = {"alrnn": [(1, latent), (1, latent, latent), (1, latent)],
              "shplrnn": [(1, latent), (1, latent, hidden), (1, hidden, latent), (1, latent), (1, hidden)]}[kind]
    core = [torch.full(shape, 0.5, dtype=dtype, requires_grad=True) for shape in shapes]
    options = (1,) if kind == "alrnn" else (True,)
    z0 = torch.ones(1, 1, latent, dtype=dtype, requires_grad=True)
    inferred = torch.zeros(1, 1, 2, latent, dtype=dtype)
    weights = torch.full((1, 2, latent), 0.5, dtype=dtype)
    states = _FusedRecurrence.apply(kind, options, z0, inferred, weights, weights, *core)
    states.sum().backward()


class _FusedRecurrence(torch.autograd.Function):
    """Autograd node over the numba kernels; arguments as in `fused_recurrence`."""

    @staticmethod
    def forward(ctx, kind, options, z0, inferred, retained, forcing, *core):  # type: ignore[override]
        module = _kernel_module(kind)
        z0, inferred = z0.detach().contiguous(), inferred.detach().contiguous()
        core = tuple(parameter.detach().contiguous() for parameter in core)
        states = torch.empty(*z0.shape[:2], inferred.shape[2], z0.shape[2], dtype=z0.dtype)
        arrays = [parameter.numpy() for parameter in core]

        if kind == "alrnn":
            A, W, h = arrays
            module.forward(A, W, h, options[0], z0.numpy(), inferred.numpy(), retained.numpy(), forcing.numpy(),
                           states.numpy())
            saved: tuple[torch.Tensor, ...] = ()
        else:
            A, W1, W2, h1, h2 = arrays
            projected = torch.empty(*states.shape[:3], W2.shape[1], dtype=z0.dtype)
            module.forward(A, W1, W2, h1, h2, options[0], z0.numpy(), inferred.numpy(), retained.numpy(),
                           forcing.numpy(), states.numpy(), projected.numpy())
            saved = (projected,)

        ctx.kind, ctx.options = kind, options
        ctx.save_for_backward(z0, inferred, retained, forcing, states, *saved, *core)
        return states

    @staticmethod
    def backward(ctx, grad_states):  # type: ignore[override]
        module = _kernel_module(ctx.kind)
        z0, inferred, retained, forcing, states, *rest = ctx.saved_tensors
        grad_states = grad_states.detach().contiguous().to(states.dtype)
        grad_z0 = torch.empty_like(z0)
        grad_inferred = torch.empty_like(inferred)
        common = (z0.numpy(), inferred.numpy(), retained.numpy(), forcing.numpy(), states.numpy(), grad_states.numpy())

        if ctx.kind == "alrnn":
            A, W, h = rest
            grads = [torch.empty_like(A), torch.empty_like(W), torch.empty_like(h)]
            module.backward(A.numpy(), W.numpy(), ctx.options[0], *common,
                            *[grad.numpy() for grad in grads], grad_z0.numpy(), grad_inferred.numpy())
        else:
            projected, A, W1, W2, h1, h2 = rest
            grads = [torch.empty_like(A), torch.empty_like(W1), torch.empty_like(W2), torch.empty_like(h1),
                     torch.empty_like(h2)]
            module.backward(A.numpy(), W1.numpy(), W2.numpy(), h2.numpy(), ctx.options[0], *common,
                            projected.numpy(), *[grad.numpy() for grad in grads], grad_z0.numpy(),
                            grad_inferred.numpy())

        return (None, None, grad_z0, grad_inferred, None, None, *grads)
