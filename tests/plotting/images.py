"""Checks that a written PNG is a real picture: its size, its pixel dimensions and more than one colour."""

from pathlib import Path

import numpy as np
from matplotlib.image import imread

# The smallest figure written in these tests (a mostly empty graph at 60 dpi) exceeds 10 kB.
MIN_BYTES = 10_000


def assert_readable_png(path: Path, width_inches: float, height_inches: float, dpi: int) -> np.ndarray:
    """Open the PNG and check its size in bytes, its pixel dimensions and that it shows more than a background."""
    assert path.is_file(), f"{path} was not written"
    assert path.stat().st_size > MIN_BYTES, f"{path} has only {path.stat().st_size} bytes"
    pixels = imread(path)
    assert pixels.shape[:2] == (round(height_inches * dpi), round(width_inches * dpi)), f"{path}: {pixels.shape}"
    rgb = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 20, f"{path} has almost a single colour"
    not_white = np.any(rgb < 0.95, axis=1).mean()
    assert 0.01 < not_white < 0.9, f"{path}: {not_white:.1%} of the pixels are not white"
    return pixels
