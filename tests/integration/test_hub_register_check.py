"""The hub refuses to start over a forged register (issue 12 item 3): it verifies the chain from the last
trusted anchor when it starts, names the first bad record, and starts again once an operator has
recorded that the state was investigated (`AuditStore.accept`, `platforma audit accept`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from audit.checkpoints import generate_key
from audit.store import AuditStore, CheckpointPolicy
from contract.errors import ConfigurationError
from hub import settings
from hub.core import HubCore
from tests.audit.test_anchors import one_checkpoint_then_forgery


@pytest.fixture
def forged(tmp_path: Path) -> Path:
    """A hub configuration whose register's only checkpoint was deleted and a record rewritten and relinked."""
    database = tmp_path / "audyt" / "audit.sqlite"
    key = tmp_path / "klucz-audytu.pem"
    generate_key(key)
    store = AuditStore(f"sqlite:///{database}", key_file=key, policy=CheckpointPolicy(every_records=10))
    one_checkpoint_then_forgery(store, database)
    store.dispose()
    config = tmp_path / "platforma.toml"
    config.write_text(
        '[hub]\nname = "Powiat testowy"\ndatabase = "sqlite:///hub.sqlite"\n'
        f'audit_database = "sqlite:///{database}"\naudit_key = "klucz-audytu.pem"\nport = 0\n',
        encoding="utf-8",
    )
    return config


def test_serve_refuses_a_forged_register_naming_the_first_bad_record(forged: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(forged)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    message = " ".join(result.stderr.split())
    assert "Hub nie zostanie uruchomiony" in message and "Rejestr audytu jest naruszony" in message
    assert "Wpis nr 15" in message, message  # the first record the anchor no longer matches
    assert "platforma audit accept" in message
    assert "Traceback" not in result.stderr


def test_the_hub_starts_again_after_an_operator_accepts_the_state(forged: Path) -> None:
    config = settings.load(forged)
    with pytest.raises(ConfigurationError, match="Hub nie zostanie uruchomiony"):
        HubCore.open(config)
    store = AuditStore(config.hub.audit_database, key_file=config.hub.audit_key)
    store.accept("inspektor.bezpieczenstwa", "zgłoszenie 2026/17: zmiana wyjaśniona")
    store.dispose()
    core = HubCore.open(config)
    core.close()
