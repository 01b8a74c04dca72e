"""Feeding modules (guideline 4): adapters that read a domain system and feed its replica.

Adapters are found through the `platforma.adapters` entry-point group (name -> Adapter class), so a new
kind of data set arrives as its own package with no edit to the hub's core (docs/adapters.md).
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from adapters.base import Adapter, AdapterError, ModelRecord, SourceRejection, SourceUnavailable, Watermark

GROUP = "platforma.adapters"

__all__ = [
    "GROUP",
    "Adapter",
    "AdapterError",
    "ModelRecord",
    "SourceRejection",
    "SourceUnavailable",
    "Watermark",
    "adapter_class",
    "available",
]


def available() -> dict[str, Any]:
    """The registered adapters: entry-point name -> entry point (not yet loaded)."""
    return {point.name: point for point in entry_points(group=GROUP)}


def adapter_class(name: str) -> type[Adapter]:
    """The adapter class registered under `name`; an unknown name is an `AdapterError` listing the known."""
    point = available().get(name)
    if point is None:
        known = ", ".join(sorted(available())) or "brak"
        raise AdapterError(f"Nieznany adapter '{name}'. Zarejestrowane adaptery: {known}.")
    loaded = point.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        raise AdapterError(f"Punkt wejścia '{name}' nie wskazuje klasy adaptera.")
    return loaded
