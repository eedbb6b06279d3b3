"""train.log: the file gets the progress records; the caller's handlers receive the same records as before."""

import logging

import pytest

from dsr.runs.log import training_logs


class Collect(logging.Handler):
    def __init__(self, level=logging.NOTSET):
        super().__init__(level)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def root_handler():
    """A handler on the root logger at WARNING, as logging.basicConfig() sets up, with dsr at its defaults."""
    root, dsr_logger = logging.getLogger(), logging.getLogger("dsr")
    saved = (root.level, dsr_logger.level, dsr_logger.propagate, list(dsr_logger.handlers))
    handler = Collect()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    dsr_logger.setLevel(logging.NOTSET)
    dsr_logger.handlers = []
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    dsr_logger.setLevel(saved[1])
    dsr_logger.propagate = saved[2]
    dsr_logger.handlers = saved[3]


def test_file_gets_info_root_does_not(tmp_path, root_handler):
    path = tmp_path / "train.log"

    with training_logs([path]):
        logging.getLogger("dsr.training").info("epoch 1 done")
        logging.getLogger("dsr.training").warning("loss is large")

    text = path.read_text()
    assert "epoch 1 done" in text
    assert "loss is large" in text
    assert root_handler.messages == ["loss is large"]


def test_logger_state_restored_after_error(tmp_path, root_handler):
    dsr_logger = logging.getLogger("dsr")
    own = Collect(logging.NOTSET)
    dsr_logger.addHandler(own)

    with pytest.raises(RuntimeError):
        with training_logs([tmp_path / "train.log"]):
            logging.getLogger("dsr.runs").info("hidden from the caller's handler")
            raise RuntimeError("training failed")

    assert own.messages == []
    assert own.level == logging.NOTSET
    assert dsr_logger.level == logging.NOTSET
    assert dsr_logger.propagate is True
    assert dsr_logger.handlers == [own]


def test_unwritable_path_leaves_no_handler(tmp_path, root_handler):
    dsr_logger = logging.getLogger("dsr")

    with pytest.raises(OSError):
        with training_logs([tmp_path / "a.log", tmp_path / "missing" / "b.log"]):
            pass

    assert dsr_logger.handlers == []
    assert dsr_logger.level == logging.NOTSET
