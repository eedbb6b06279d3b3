"""Catalogue of known dynamical systems, their simulation and their Lyapunov spectra."""

from dsr.systems import flows, maps  # noqa: F401  (importing registers the systems)
from dsr.systems.catalogue import ReferenceSpectrum, System, get_system, list_systems
from dsr.systems.simulate import initial_conditions, parse_parameter_overrides, parse_sweep, simulate

__all__ = [
    "ReferenceSpectrum",
    "System",
    "get_system",
    "initial_conditions",
    "list_systems",
    "parse_parameter_overrides",
    "parse_sweep",
    "simulate",
]
