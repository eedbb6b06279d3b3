"""Analysis of trained models and catalogued systems: Lyapunov spectra, symbolic dynamics."""
