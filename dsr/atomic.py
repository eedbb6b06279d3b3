"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written file, and an error or Ctrl-C during writing
leaves the previous file (or no file) in place.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from dsr.errors import InputError, OutputExistsError


def check_output_path(path: str | os.PathLike, force: bool) -> Path:
    """Return `path` as a Path after checking that it may be written.

    Raises OutputExistsError if it exists and `force` is false, and InputError
    if its parent folder is missing or the path is a folder.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder, but a file path was expected. Give a file name such as {path / 'data.h5'}.")
    if path.exists() and not force:
        raise OutputExistsError(f"{path}: exists already. Choose another output path or pass --force to overwrite it.")
    if not path.parent.exists():
        raise InputError(f"{path}: the folder {path.parent} does not exist. Create it first or choose another output path.")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to, and rename it onto `path` on success.

    On any exception the temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
