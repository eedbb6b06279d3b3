"""Parsers for option values shared by several commands."""

from __future__ import annotations

from dsr.errors import InputError


def parse_split(text: str) -> tuple[float, float, float]:
    """Parse ``"0.8,0.1,0.1"`` into train, validation and test fractions."""
    try:
        parts = tuple(float(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise InputError(f"Invalid --split {text!r}: expected three fractions such as 0.8,0.1,0.1 (train, validation, test).")
    return parts


def parse_list(values: list[str] | None) -> list[str]:
    """Flatten repeated and comma-separated option values: ["a,b", "c"] -> ["a", "b", "c"]."""
    items: list[str] = []
    for value in values or []:
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items
