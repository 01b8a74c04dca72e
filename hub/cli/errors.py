"""Errors of the command line only (no SOAP fault carries them)."""

from __future__ import annotations


class MissingSecret(Exception):
    """A password the command needs: its variable unset and no terminal to ask on, or not UTF-8 (`hub.cli._run`
    prints it as BRAK_HASLA)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def not_utf8(text: str) -> bool:
    """Whether a command-line argument or an environment variable held bytes that are not UTF-8 (Python keeps
    them as lone surrogates, U+DC80-U+DCFF, which fail any later encoding)."""
    return any("\udc80" <= c <= "\udcff" for c in text)
