"""The hub's core, assembled once from the configuration and passed down explicitly (STYLE.md)."""

from __future__ import annotations

from dataclasses import dataclass

from audit.sql import SqlDisclosureRegister
from hub.accounts import Accounts, hub_engine
from hub.config import Config
from hub.query import QueryEngine


@dataclass
class HubCore:
    """Configuration, accounts, the disclosure register and the query engine of one hub process."""

    config: Config
    accounts: Accounts
    register: SqlDisclosureRegister
    query: QueryEngine

    @classmethod
    def open(cls, config: Config, *, import_users: bool = True) -> HubCore:
        """Open the hub's databases and replicas; import the configured users."""
        accounts = Accounts(hub_engine(config.hub.database), config.hub.credential_cache_seconds)
        if import_users and config.users:
            accounts.import_users(config.users)
        register = SqlDisclosureRegister(config.hub.audit_database)
        return cls(config, accounts, register, QueryEngine(config, register))

    def close(self) -> None:
        """Release every database connection."""
        self.query.close()
        self.register.dispose()
        self.accounts.engine.dispose()
