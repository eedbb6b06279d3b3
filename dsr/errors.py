"""Exceptions raised by dsr.

The command-line front end maps them to exit codes: `InputError` and its
subclasses to 2 (bad usage or bad input), every other `DsrError` to 1 (a
failure during the work). Messages name the file or value at fault and the fix,
so that the front end can show them unchanged.
"""


class DsrError(Exception):
    """Base class of every error that dsr raises on purpose."""


class InputError(DsrError, ValueError):
    """Invalid input from the user: a file, an option value or an argument."""


class FormatError(InputError):
    """A file that is not a dsr dataset or run, or has an unsupported format version."""


class OutputExistsError(InputError):
    """An output path that exists already and was not allowed to be overwritten."""


class NumericalError(DsrError):
    """A computation that diverged or did not converge (NaN, inf, singular system)."""


class TrainingInterrupted(DsrError):
    """Training stopped by the user (Ctrl-C) after its checkpoint was saved."""
