"""`platforma audit`: the audit package's commands, with `--config` read by the hub's one settings loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit import cli as audit_cli
from audit.errors import AuditError
from contract.errors import ConfigurationError
from hub import settings


def audit_settings(path: Path) -> audit_cli.AuditSettings:
    """What the audit commands need, from the hub's configuration file (`[hub]`)."""
    try:
        hub = settings.load(path).hub
    except ConfigurationError as error:
        raise AuditError(error.message) from None
    return audit_cli.AuditSettings(
        url=hub.audit_database,
        key=Path(hub.audit_key) if hub.audit_key else None,
        every_records=hub.audit_checkpoint_every,
        every_minutes=float(hub.audit_checkpoint_minutes),
        retention_days=hub.audit_retention_days,
        issuer=hub.name,
        anchors=Path(hub.audit_anchors) if hub.audit_anchors else None,
    )


def register(commands: Any) -> None:
    """Add `audit` to the `platforma` command."""
    audit_cli.register(commands, read_config=audit_settings)
