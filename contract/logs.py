"""Log lines without PESELs (STYLE: personal data never in application logs).

The hub's own messages name no person, but a message is not all a log line holds: a database error's text
carries the statement's parameters (a PESEL looked up in a replica), and a traceback repeats it. Every line
the `platforma` commands log passes through `RedactingFormatter`, which replaces each stand-alone run of
eleven digits (a PESEL, or what a caller meant as one) once the line is formatted, traceback included.
"""

from __future__ import annotations

import logging
import re

#: Eleven digits with no digit either side: longer numbers (times, counters) are no PESEL.
_ELEVEN_DIGITS = re.compile(r"(?<![0-9])[0-9]{11}(?![0-9])")
REDACTED = "[PESEL ukryty]"


def redact(text: str) -> str:
    """`text` with every stand-alone run of eleven digits replaced by `REDACTED`."""
    return _ELEVEN_DIGITS.sub(REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose output, traceback included, holds no eleven-digit run (`redact`)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact_handlers(logger: logging.Logger | None = None) -> None:
    """Give every handler of `logger` (the root logger by default) a redacting formatter of the same format."""
    for handler in (logger or logging.getLogger()).handlers:
        current = handler.formatter
        if isinstance(current, RedactingFormatter):
            continue
        fmt = current._fmt if current is not None else None
        datefmt = current.datefmt if current is not None else None
        handler.setFormatter(RedactingFormatter(fmt, datefmt))
