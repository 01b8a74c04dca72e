"""`platforma audit`: the audit package's commands, with `--config` read by the hub's one settings loader, and
`audit report` made by an authenticated auditor through the same domain service as `/soap/audyt`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from audit import cli as audit_cli
from audit.errors import AuditError
from audit.output import STDOUT, output_stream
from audit.store import OpenMode
from contract.errors import ConfigurationError, PlatformError
from hub import settings
from hub.cli.admin import _actor
from hub.core import HubCore
from hub.domain.reports import ReportOrder


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


def _kind(args: argparse.Namespace) -> str:
    if args.unit or args.gmina:
        return "ZBIORY"
    if args.pesel:
        return "OSOBA"
    if args.user:
        return "UZYTKOWNIK"
    if args.office:
        return "URZAD"
    return "OKRES"


def _report(args: argparse.Namespace) -> int:
    """`audit report`: only an auditor who logs in; identifiers checked as on SOAP; the real actor recorded."""
    to_stdout = args.output in (None, STDOUT)
    if args.format == "pdf" and to_stdout and sys.stdout.isatty():
        raise AuditError("Raportu PDF nie wypisuję na terminal: podaj --output PLIK.pdf.")
    order = ReportOrder(
        kind=_kind(args),
        format=args.format,
        pesel=args.pesel,
        user=args.user,
        office=args.office,
        since=audit_cli.parse_moment(args.since, end=False) if args.since else None,
        until=audit_cli.parse_moment(args.until, end=True) if args.until else None,
        include_refusals=args.refusals,
        unit=args.unit,
        gmina=args.gmina,
    )
    if not args.config:
        raise AuditError("Raport sporządza zalogowany audytor: podaj --config PLIK (konfiguracja hubu) i --actor.")
    # Never a new, empty register; and no seal is needed for a report.
    core = HubCore.open(settings.load(args.config), audit_mode=OpenMode.EXISTING, seals_at_start=False)
    try:
        caller = _actor(core, args)  # as every command acting as a user: logged in, no one-time password
        core.reports.request(order)  # a bad order fails before the output file is touched
        with output_stream(args.output) as handle:
            count = core.reports.write(caller, order, handle, channel="CLI")
    finally:
        core.close()
    if not to_stdout:
        print(f"Zapisano raport ({count} wpisów): {args.output}", file=sys.stderr)
    return 0


def report_command(args: argparse.Namespace) -> int:
    """`_report` with the audit commands' way of failing: one Polish sentence and exit code 2."""
    try:
        return _report(args)
    except PlatformError as error:
        print(f"Błąd: {error.message}", file=sys.stderr)
        return 2
    except AuditError as error:
        print(f"Błąd: {error.message}", file=sys.stderr)
        return 2


def register(commands: Any) -> None:
    """Add `audit` to the `platforma` command."""
    audit_cli.register(commands, read_config=audit_settings, report_command=report_command)
