"""A small bounded cache for results that depend only on immutable inputs (certificates, keys).

A hub verifies many documents signed by the same few people: checking a certificate's signature or
loading its key once per certificate, not once per document, is most of the verifier's speed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A cache of at most ``size`` entries, oldest dropped first; safe to share between threads."""

    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The cached value for ``key``, made by ``make()`` on a miss."""
        try:
            # Reads need no lock: dict lookups are atomic, and recency is only a hint.
            return self._data[key]
        except KeyError:
            pass
        value = make()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self._size:
                self._data.popitem(last=False)
        return value
