"""Walk an HDF5 file and list its objects and attributes in the notation of docs/formats.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

import h5py

FORMATS_DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
PARAMETER_GROUPS = re.compile(r"^(/model/(latest|best)|/checkpoints/epoch_<epoch>/(model|best_model))/.+$")


def documented_names() -> set[str]:
    """Return every name written in backticks at the start of a table row of docs/formats.md."""
    names = set()
    for line in FORMATS_DOC.read_text().splitlines():
        match = re.match(r"^\|\s*`([^`]+)`", line)
        if match:
            names.add(match.group(1))
    return names


def normalise(path: str) -> str:
    path = re.sub(r"/\d{4}(?=/|$)", "/<index>", path)
    path = re.sub(r"/epoch_\d{6}", "/epoch_<epoch>", path)
    path = re.sub(r"^(/checkpoints/epoch_<epoch>/history)/[^/@]+$", r"\1/<field>", path)
    match = PARAMETER_GROUPS.match(path)
    if match and "@" not in path:
        return f"{match.group(1)}/<parameter>"
    return path


def written_names(path: Path, json_attributes: tuple[str, ...] = ("provenance",)) -> set[str]:
    """Return the normalised names of all objects, attributes and listed JSON keys in an HDF5 file."""
    names: set[str] = set()
    with h5py.File(path, "r") as handle:
        objects = [("/", handle)]
        handle.visititems(lambda name, item: objects.append(("/" + name, item)))
        for object_path, item in objects:
            if object_path != "/":
                names.add(normalise(object_path))
            prefix = "" if object_path == "/" else normalise(object_path)
            for attribute in item.attrs:
                names.add(f"{prefix}/@{attribute}" if object_path == "/" else f"{prefix}@{attribute}")
                if object_path == "/" and attribute in json_attributes:
                    for key in json.loads(item.attrs[attribute]):
                        names.add(f"/@{attribute}:{key}")
    return names
