"""Errors of the command line only (no SOAP fault carries them)."""

from __future__ import annotations


class MissingSecret(Exception):
    """A password the command needs: its variable unset and no terminal to ask on, or not UTF-8 (`hub.cli._run`
    prints it as BRAK_HASLA)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
