"""Low-level HDF5 helpers for run files: tensors, JSON attributes and atomic group replacement."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import torch

from dsr.atomic import atomic_path


def write_tensors(group: h5py.Group, tensors: dict[str, torch.Tensor]) -> None:
    """Store each tensor as a dataset named after its key ('.' becomes '/', making subgroups)."""
    for name, tensor in tensors.items():
        group.create_dataset(name.replace(".", "/"), data=tensor.detach().cpu().numpy())


def read_tensors(group: h5py.Group) -> dict[str, torch.Tensor]:
    """Inverse of `write_tensors`."""
    tensors: dict[str, torch.Tensor] = {}

    def visit(name: str, item: Any) -> None:
        if isinstance(item, h5py.Dataset):
            tensors[name.replace("/", ".")] = torch.as_tensor(item[()])

    group.visititems(visit)
    return tensors


def write_json(target: h5py.Group | h5py.File, name: str, value: Any) -> None:
    target.attrs[name] = json.dumps(value, sort_keys=True, default=_json_default)


def read_json(target: h5py.Group | h5py.File, name: str, default: Any = None) -> Any:
    if name not in target.attrs:
        return default
    return json.loads(target.attrs[name])


def plain_attribute(value: Any) -> Any:
    """Convert an HDF5 attribute value to plain Python: arrays to lists (strings decoded), numpy scalars to numbers."""
    if isinstance(value, np.ndarray):
        return [str(v) if isinstance(v, (bytes, str)) else v for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def write_torch_object(group: h5py.Group, name: str, value: Any) -> None:
    """Store a PyTorch state dict (tensors, numbers, lists) as serialised bytes."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    group.create_dataset(name, data=np.frombuffer(buffer.getvalue(), dtype=np.uint8))


def read_torch_object(group: h5py.Group, name: str) -> Any:
    return torch.load(io.BytesIO(group[name][()].tobytes()), weights_only=True)


def rewrite_file(path: str | os.PathLike, replace: dict[str, Callable[[h5py.Group, h5py.File], None] | None],
                 attributes: dict[str, Any] | None = None) -> None:
    """Rewrite an HDF5 file atomically, replacing some top-level groups and root attributes.

    Every top-level object not named in `replace` is copied unchanged. For
    each name in `replace`, the old group is dropped and, unless the value is
    None, a new group is created and passed to the writer together with the
    old file (open for reading), so a writer can carry parts of the old group over. Copying into a new
    file (rather than editing in place) keeps the file compact and means a
    crash leaves the old file intact.
    """
    path = Path(path)
    with atomic_path(path) as temporary:
        with h5py.File(path, "r") as old, h5py.File(temporary, "w") as new:
            for key, value in old.attrs.items():
                new.attrs[key] = value
            for name in old:
                if name not in replace:
                    old.copy(old[name], new, name=name)
            for name, writer in replace.items():
                if writer is not None:
                    writer(new.create_group(name), old)
            for key, value in (attributes or {}).items():
                new.attrs[key] = value
