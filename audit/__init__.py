"""The audit side of the platform: the disclosure register (guideline 6) and the security event log (7).

Both are links of one hash chain in a database of their own, with checkpoints signed by the hub's key
(`audit.store.AuditStore`); `audit.sql.SqlDisclosureRegister` and `audit.sql.SqlEventLog` are what the hub
writes to, `audit.verify.verify` finds tampering, `audit.reports.build_report` answers "who received my
data" (GDPR art. 15), `audit.retention.purge` removes old records behind a signed cut. This package
imports nothing of `hub`.
"""

from __future__ import annotations

from audit.records import DisclosureRecord, DisclosureRegister, EventKind, EventLog, Outcome, SecurityEvent

__all__ = ["DisclosureRecord", "DisclosureRegister", "EventKind", "EventLog", "Outcome", "SecurityEvent"]
