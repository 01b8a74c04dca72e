"""Argument types for the command line, with Polish messages (argparse calls them on each value)."""

from __future__ import annotations

import argparse

from contract.catalog import TEMPLATE_VERSION_MAX


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"oczekiwano liczby całkowitej, podano {text!r}") from None


def port_number(text: str) -> int:
    """A TCP port, 0 (any free one) to 65535."""
    value = _integer(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port musi być liczbą od 0 do 65535, podano {value}")
    return value


def positive_integer(text: str) -> int:
    """A whole number of at least 1 (workers, batch sizes)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"oczekiwano liczby co najmniej 1, podano {value}")
    return value


def count(text: str) -> int:
    """A number of people or things, 0 or more."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"liczba nie może być ujemna, podano {value}")
    return value


def version_number(text: str) -> int:
    """A template version's number, 1 to `TEMPLATE_VERSION_MAX` (a larger one overflowed SQLite's INTEGER)."""
    value = _integer(text)
    if not 1 <= value <= TEMPLATE_VERSION_MAX:
        raise argparse.ArgumentTypeError(f"numer wersji musi być liczbą od 1 do {TEMPLATE_VERSION_MAX}, podano {value}")
    return value
