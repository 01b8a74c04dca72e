"""The hub's core, assembled once from the configuration and passed down explicitly (STYLE.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from audit.errors import AnchorFileError, AuditError, AuditKeyError, ChainBrokenError
from audit.sql import SqlDisclosureRegister, SqlEventLog
from audit.store import AuditStore, CheckpointPolicy, OpenMode
from contract.errors import ConfigurationError
from hub.domain.accounts import Accounts, SecuritySettings
from hub.domain.documents import Documents, open_documents
from hub.domain.feeding import Feeding
from hub.domain.policy import Policy
from hub.domain.query import QueryEngine
from hub.domain.reports import Reports
from hub.domain.rules import RuleStore
from hub.domain.seals import Seals, open_seals
from hub.settings import Config
from hub.storage.tables import hub_engine
from replica.sqlite import sqlite_file

_log = logging.getLogger("platforma.hub")


def _missing_files(database: str, audit_database: str) -> list[str]:
    """The hub's SQLite databases that do not exist yet (opening makes them), named for a warning."""
    named = (("bazę huba", sqlite_file(database)), ("rejestr audytu", sqlite_file(audit_database)))
    return [f"{label} {path}" for label, path in named if path is not None and not path.exists()]


@dataclass
class HubCore:
    """Configuration, accounts, rules, the audit databases and the domain services of one hub process."""

    config: Config
    accounts: Accounts
    register: SqlDisclosureRegister
    query: QueryEngine
    events: SqlEventLog
    rules: RuleStore
    feeding: Feeding
    reports: Reports
    documents: Documents

    @classmethod
    def open(
        cls,
        config: Config,
        *,
        import_users: bool = True,
        audit_mode: OpenMode = OpenMode.CREATE,
        seals_at_start: bool = True,
        announce_new: bool = False,
    ) -> HubCore:
        """Open the hub's databases and replicas; seed users, groups and rules from the configuration.

        `audit_mode`: the hub (and the commands that record changes) may create the register; a command that only
        reads it or reports from it opens an existing one (`OpenMode.EXISTING`): on a mistyped `audit_database`,
        `audit report` made an empty register and issued a "no disclosures" art. 15 report from it.
        `seals_at_start`: the hub opens every seal before anything else; the administrator's commands open them
        when one is first needed (`Seals(opener=...)`). `announce_new`: say (a warning) when a database is made,
        as the administrator's commands do (the hub's first start makes them as a matter of course)."""
        settings = config.hub
        # The seals' keys first (issue 15, item 4b): a wrong PIN or a missing token stops the start in one line
        # before any database is touched.
        seals = open_seals(config) if seals_at_start else Seals(opener=lambda: open_seals(config))
        new_files = _missing_files(settings.database, settings.audit_database) if announce_new else []
        # One chain for disclosures and security events (audit/): both writers share one store.
        try:
            store = AuditStore(
                settings.audit_database,
                key_file=settings.audit_key,
                policy=CheckpointPolicy(settings.audit_checkpoint_every, float(settings.audit_checkpoint_minutes)),
                synchronous=settings.audit_synchronous,
                anchor_file=settings.audit_anchors,
                mode=audit_mode,
            )
        except AuditError as error:  # the key missing, empty, not PEM, readable by everyone; the database unopenable
            seals.close()
            field = "audit_key" if isinstance(error, AuditKeyError) else "audit_database"
            raise ConfigurationError(f"{config.path.name}:hub.{field}: {error.message}") from None
        verify_register(store)
        if new_files:
            # Said, never silent: with the databases moved aside (or a path mistyped) an administrator's command
            # made empty ones and went on as if nothing had happened (an attack pass).
            _log.warning(
                "Utworzono nową, pustą %s. Jeśli ta platforma już działała, sprawdź ścieżki w %s.",
                " i ".join(new_files),
                config.path.name,
            )
        register = SqlDisclosureRegister(settings.audit_database, store=store)
        events = SqlEventLog(settings.audit_database, store=store)
        engine = hub_engine(settings.database)
        accounts = Accounts(
            engine,
            events=events,
            settings=SecuritySettings(
                cache_seconds=settings.credential_cache_seconds,
                max_failed_logins=settings.max_failed_logins,
                lock_minutes=settings.lock_minutes,
                min_password_length=settings.min_password_length,
                min_password_score=settings.min_password_score,
            ),
        )
        if import_users:
            accounts.import_groups(config.groups)
            accounts.import_users(config.users)
        rules = RuleStore(engine, config, events)
        rules.seed(config.rules)
        query = QueryEngine(config, register, Policy(config, rules))
        feeding = Feeding(config, accounts)
        reports = Reports(
            register.store, accounts, issuer=settings.name, config=config, has_account=accounts.has_account
        )
        documents = open_documents(config, engine, query, events, seals)
        return cls(config, accounts, register, query, events, rules, feeding, reports, documents)

    def close(self) -> None:
        """Release every database connection and the seals' token sessions."""
        self.documents.close()
        self.query.close()
        self.feeding.close()
        self.register.dispose()
        self.events.dispose()
        self.accounts.engine.dispose()


def verify_register(store: AuditStore) -> None:
    """The hub serves only over an intact register: the chain from the last trusted anchor is verified at
    start (and by the store before every checkpoint it signs), so a forged chain is never signed over.
    An operator who has investigated records that with `platforma audit accept` (guideline 6)."""
    try:
        store.verify_before_signing()
    except ChainBrokenError as error:
        store.dispose()
        raise ConfigurationError(
            f"Hub nie zostanie uruchomiony. {error.message} Szczegóły: platforma audit verify --config …"
        ) from None
    except AnchorFileError as error:
        store.dispose()
        raise ConfigurationError(
            f"Plik kotwic rejestru audytu: {error.message} Hub nie zostanie uruchomiony."
        ) from None
