"""Fixed points of piecewise-linear models, real and virtual, with their stability.

Inside the subregion with on/off pattern d the model is affine, F(z) = J_d z
+ c_d, so the affine map has the single fixed point z* = (I − J_d)⁻¹ c_d
when I − J_d is invertible. z* is a fixed point of F only if it lies in its
own subregion, subregion(z*) = d: then it is *real*; otherwise it is
*virtual*, a fixed point of the affine piece that the orbit never reaches but
whose eigen-directions can still shape the flow nearby (Brenner et al.,
NeurIPS 2024, "Almost-Linear RNNs Yield Highly Interpretable Symbolic Codes in
Dynamical Systems Reconstruction"). A fixed point is stable when the spectral
radius of J_d is below 1.

Periodic orbits (k-cycles) are in `dsr.analysis.cycles`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from dsr.analysis._models import affine_maps, float64_model, subregions
from dsr.analysis.symbols import all_patterns, pattern_label
from dsr.errors import InputError
from dsr.models.base import ReconstructionModel

logger = logging.getLogger(__name__)

# I − J counts as singular (no isolated fixed point) above this condition number.
SINGULAR_CONDITION = 1e12


@dataclass(frozen=True)
class FixedPoint:
    """The fixed point of the affine map of one subregion.

    Attributes:
        pattern: (S,) on/off pattern of the subregion.
        label: its bit string.
        point: (M,) z* = (I − J)⁻¹ c.
        eigenvalues: (M,) complex eigenvalues of J, largest modulus first.
        spectral_radius: max |eigenvalue|.
        stable: spectral_radius < 1.
        real: z* lies in its own subregion, so it is a fixed point of F.
    """

    pattern: np.ndarray
    label: str
    point: np.ndarray
    eigenvalues: np.ndarray
    spectral_radius: float
    stable: bool
    real: bool


@dataclass(frozen=True)
class FixedPointSearch:
    """The fixed points of the subregions searched.

    Attributes:
        fixed_points: one per searched subregion with an invertible I − J,
            real ones first, then by label.
        singular_labels: subregions where I − J is singular (condition
            number above 1e12): their affine map has no fixed point or a
            continuum of them, so none is reported.
        n_searched: number of subregions searched.
        complete: all 2^S subregions were searched, so every isolated real
            fixed point of F is in the list.
    """

    fixed_points: tuple[FixedPoint, ...]
    singular_labels: tuple[str, ...]
    n_searched: int
    complete: bool

    @property
    def real(self) -> tuple[FixedPoint, ...]:
        """The real fixed points, which are fixed points of F."""
        return tuple(point for point in self.fixed_points if point.real)

    @property
    def virtual(self) -> tuple[FixedPoint, ...]:
        """The virtual fixed points, which lie outside their own subregion."""
        return tuple(point for point in self.fixed_points if not point.real)


def candidate_patterns(model: ReconstructionModel, patterns: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """Return the subregion patterns to search (K, S) and whether they are all 2^S of them.

    Without `patterns` all 2^S subregions are enumerated, which needs
    S ≤ 20; for larger S pass the visited patterns (for example
    `Alphabet.patterns` of a symbolised free run).
    """
    n_switches = model.n_switches
    if patterns is None:
        if n_switches > 20:
            raise InputError(
                f"The model has S = {n_switches} switching units, too many to enumerate all 2^S subregions; "
                "pass the visited subregion patterns instead."
            )
        return all_patterns(n_switches), True
    patterns = np.asarray(patterns, dtype=bool)
    if patterns.ndim != 2 or patterns.shape[1] != n_switches:
        raise InputError(f"Subregion patterns must have shape (K, S) with S = {n_switches}, got {patterns.shape}.")
    unique = np.unique(patterns, axis=0)
    return unique, len(unique) == 2**n_switches


def find_fixed_points(model: ReconstructionModel, patterns: np.ndarray | None = None) -> FixedPointSearch:
    """Compute the fixed point of every searched subregion's affine map and classify it as real or virtual.

    Args:
        model: any `ReconstructionModel`; a float32 model is copied to float64.
        patterns: (K, S) subregions to search; all 2^S by default (S ≤ 20).

    Raises:
        InputError: S > 20 without patterns, or patterns of the wrong shape.
    """
    model = float64_model(model)
    patterns, complete = candidate_patterns(model, patterns)
    jacobians, offsets = affine_maps(model, patterns)
    identity = np.eye(model.latent_dim)

    found, singular = [], []
    for pattern, jacobian, offset in zip(patterns, jacobians, offsets):
        system = identity - jacobian
        if np.linalg.cond(system) > SINGULAR_CONDITION:
            singular.append(pattern_label(pattern))
            continue
        point = np.linalg.solve(system, offset)
        eigenvalues = np.linalg.eigvals(jacobian)
        eigenvalues = eigenvalues[np.argsort(-np.abs(eigenvalues), kind="stable")]
        radius = float(np.abs(eigenvalues[0])) if len(eigenvalues) else 0.0
        found.append(FixedPoint(
            pattern=pattern.copy(),
            label=pattern_label(pattern),
            point=point,
            eigenvalues=eigenvalues,
            spectral_radius=radius,
            stable=radius < 1.0,
            real=bool(np.array_equal(subregions(model, point), pattern)),
        ))

    found.sort(key=lambda point: (not point.real, point.label))
    if singular:
        logger.info("No isolated fixed point in %d subregion(s) where I − J is singular: %s", len(singular), ", ".join(singular[:10]))
    return FixedPointSearch(tuple(found), tuple(singular), len(patterns), complete)
