"""train.log: a copy of the library's log records in each run folder while it trains."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Forward(logging.Handler):
    """Pass records on to the handlers above a logger, as propagation would."""

    def __init__(self, parent: logging.Logger, level: int) -> None:
        super().__init__(level)
        self.parent = parent

    def emit(self, record: logging.LogRecord) -> None:
        self.parent.handle(record)


@contextlib.contextmanager
def training_logs(paths: list[Path]) -> Iterator[None]:
    """Append the `dsr` logger's records of level INFO and above to each file of `paths` while the block runs.

    In a Python session that never configured logging, the `dsr` logger
    inherits WARNING from the root logger and would drop the progress
    records before any file saw them. So where its effective level is above
    INFO, the block lowers it to INFO. Other handlers receive the same
    records as before, because the logger's own handlers are raised to at
    least the old level and records reach the root logger's handlers only
    from that level up. Everything is restored afterwards, also on errors.
    """
    logger = logging.getLogger("dsr")
    previous_level, previous_propagate = logger.level, logger.propagate
    effective = logger.getEffectiveLevel()
    other_handlers = {handler: handler.level for handler in logger.handlers}

    with contextlib.ExitStack() as stack:
        for path in paths:
            handler = stack.enter_context(contextlib.closing(logging.FileHandler(path, encoding="utf-8")))
            handler.setFormatter(logging.Formatter(FORMAT))
            handler.setLevel(logging.INFO)
            logger.addHandler(handler)
            stack.callback(logger.removeHandler, handler)

        if effective > logging.INFO:
            for handler, level in other_handlers.items():
                handler.setLevel(max(level, effective))
                stack.callback(handler.setLevel, level)
            if previous_propagate and logger.parent is not None:
                forward = _Forward(logger.parent, effective)
                logger.addHandler(forward)
                stack.callback(logger.removeHandler, forward)
            logger.propagate = False
            logger.setLevel(logging.INFO)
            stack.callback(setattr, logger, "propagate", previous_propagate)
            stack.callback(logger.setLevel, previous_level)
        yield
