"""train.log: a copy of the library's log records in each run folder while it trains."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def training_logs(paths: list[Path]) -> Iterator[None]:
    """Append the `dsr` logger's records of level INFO and above to each file of `paths` while the block runs.

    In a Python session that never configured logging, the `dsr` logger
    inherits WARNING from the root logger. So where its level is above INFO,
    it is lowered to INFO for the block and restored afterwards, and the
    files get the progress records too. Console output is left to the
    handlers the caller set up: `dsr --quiet` raises the level of its
    console handler, not of the logger.
    """
    logger = logging.getLogger("dsr")
    handlers = []
    for path in paths:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.setLevel(logging.INFO)
        logger.addHandler(handler)
        handlers.append(handler)
    previous_level = logger.level
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(previous_level)
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
