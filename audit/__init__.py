"""The audit side of the platform: the disclosure register (guideline 6) behind one interface.

`DisclosureRegister` is what the hub writes to; `audit.sql.SqlDisclosureRegister` keeps the records in a
database of their own. This package imports nothing of `hub`.
"""

from __future__ import annotations

from audit.records import DisclosureRecord, DisclosureRegister, EventKind, EventLog, Outcome, SecurityEvent

__all__ = ["DisclosureRecord", "DisclosureRegister", "EventKind", "EventLog", "Outcome", "SecurityEvent"]
