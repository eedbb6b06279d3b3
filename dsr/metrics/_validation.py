"""Input checks shared by the metrics: shape, finiteness and length of a time series."""

from __future__ import annotations

import numpy as np

from dsr.errors import InputError


def as_time_series(name: str, values, *, min_length: int, allow_1d: bool = False) -> np.ndarray:
    """Return `values` as a float64 array of shape (T, N), or raise InputError.

    A 1-D array of shape (T,) becomes (T, 1) when `allow_1d` is true. The
    error names the argument, the shape or value at fault and the fix.
    """
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name} must be an array of numbers, but converting it to float failed: {error}.") from None

    if array.ndim == 1 and allow_1d:
        array = array[:, None]
    if array.ndim != 2:
        expected = "(T,) or (T, N)" if allow_1d else "(T, N)"
        raise InputError(
            f"{name} must have shape {expected} with time along the first axis, got shape {array.shape}. "
            "Pass one trajectory at a time, for example x[0] from an array of shape (n_trajectories, T, N)."
        )

    finite = np.isfinite(array)
    if not finite.all():
        bad_step, bad_dimension = np.argwhere(~finite)[0]
        raise InputError(
            f"{name} contains {int(np.count_nonzero(~finite))} non-finite values (NaN or inf), "
            f"the first at time step {bad_step}, dimension {bad_dimension}: {array[bad_step, bad_dimension]}. "
            "A diverged trajectory has no attractor to compare; cut it before the divergence or score it separately."
        )

    if array.shape[0] < min_length:
        raise InputError(f"{name} has {array.shape[0]} time steps, but this metric needs at least {min_length}.")
    return array


def check_same_dimension(true: np.ndarray, generated: np.ndarray) -> None:
    """Raise InputError unless both (T, N) arrays have the same number of dimensions N."""
    if true.shape[1] != generated.shape[1]:
        raise InputError(
            f"true has {true.shape[1]} dimensions and generated has {generated.shape[1]} (shapes {true.shape} "
            f"and {generated.shape}); both must observe the same N variables in the same order."
        )


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return `value` as a float, or raise InputError unless it is finite and positive (or zero if allowed)."""
    number = float(value)
    if not np.isfinite(number) or number < 0.0 or (number == 0.0 and not allow_zero):
        requirement = "zero or positive" if allow_zero else "positive"
        raise InputError(f"{name} must be finite and {requirement}, got {value}.")
    return number


def check_count(name: str, value: int, *, minimum: int) -> int:
    """Return `value` as an int, or raise InputError unless it is a whole number of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    if value < minimum:
        raise InputError(f"{name} must be at least {minimum}, got {value}.")
    return int(value)
