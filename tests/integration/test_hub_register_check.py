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


def _serve(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def fresh(tmp_path: Path) -> Path:
    """A hub configuration with a new register and its key (0600, as `generate_key` writes it)."""
    generate_key(tmp_path / "klucz-audytu.pem")
    config = tmp_path / "platforma.toml"
    config.write_text(
        '[hub]\nname = "Powiat testowy"\ndatabase = "sqlite:///hub.sqlite"\n'
        'audit_database = "sqlite:///audyt/audit.sqlite"\naudit_key = "klucz-audytu.pem"\nport = 0\n',
        encoding="utf-8",
    )
    return config


def test_a_checkpoint_key_everyone_may_read_is_refused_as_the_other_keys_are(fresh: Path) -> None:
    """Attack pass: a 0644 audit_key was used by `serve` and `audit checkpoint` without a word, while the
    documents key, the seals and `sign --key` refuse such a file. Whoever reads it signs over a forgery."""
    key = fresh.with_name("klucz-audytu.pem")
    key.chmod(0o644)
    result = _serve(fresh)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("Błąd: platforma.toml:hub.audit_key: Plik klucza prywatnego punktów kontrolnych")
    assert "(uprawnienia 0644); ustaw 0600" in result.stderr and "[KLUCZ_DOSTEPNY_DLA_WSZYSTKICH]" in result.stderr
    checkpoint = subprocess.run(
        [sys.executable, "-m", "hub.cli", "audit", "checkpoint", "--config", str(fresh)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checkpoint.returncode == 2 and "KLUCZ_DOSTEPNY_DLA_WSZYSTKICH" in checkpoint.stderr, checkpoint.stderr
    key.chmod(0o640)  # a group, as the seals allow
    core = HubCore.open(settings.load(fresh))
    core.close()


@pytest.mark.parametrize(
    ("field", "damage", "says"),
    [
        ("audit_key", lambda p: p.write_bytes(b""), "nie zawiera czytelnego klucza prywatnego PEM"),
        ("audit_key", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n"), "nie zawiera czytelnego klucza prywatnego PEM"),
        ("signature_trust", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64), "signature_trust"),
    ],
    ids=["empty-key", "png-key", "png-trust"],
)
def test_a_key_or_trust_file_of_the_wrong_kind_is_a_line_of_the_configuration_not_an_internal_error(
    fresh: Path, field: str, damage: object, says: str
) -> None:
    """`serve` ended with "Nieoczekiwany błąd (AuditKeyError|InvalidInput)", exit 3: the path for a bug."""
    target = fresh.with_name("klucz-audytu.pem" if field == "audit_key" else "zaufane.png")
    damage(target)  # type: ignore[operator]
    target.chmod(0o600)
    if field == "signature_trust":
        fresh.write_text(fresh.read_text().replace("port = 0\n", 'port = 0\nsignature_trust = "zaufane.png"\n'))
    result = _serve(fresh)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"Błąd: platforma.toml:hub.{field}: ") and says in result.stderr, result.stderr
    assert "Nieoczekiwany" not in result.stderr and "Traceback" not in result.stderr


def test_the_audit_commands_anchor_where_the_configuration_says(tmp_path: Path) -> None:
    """Finding (reports pass): `[hub] audit_anchors` was read by the hub and ignored by `platforma audit … --config`:
    `audit checkpoint` anchored beside the key, `audit verify` checked that file, and the hub, finding its configured
    file without the checkpoint's anchor, refused to start; the advised `audit accept` anchored beside the key again."""
    key = tmp_path / "klucze" / "klucz-audytu.pem"
    generate_key(key)
    (tmp_path / "bezpieczne").mkdir()
    config = tmp_path / "platforma.toml"
    config.write_text(
        '[hub]\nname = "Powiat testowy"\ndatabase = "sqlite:///hub.sqlite"\n'
        'audit_database = "sqlite:///audyt.sqlite"\naudit_key = "klucze/klucz-audytu.pem"\n'
        'audit_anchors = "bezpieczne/kotwice"\nport = 0\n',
        encoding="utf-8",
    )
    HubCore.open(settings.load(config)).close()  # the hub makes the register (and its anchor file)

    def audit(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub.cli", "audit", *words, "--config", str(config)],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip

    store = AuditStore(f"sqlite:///{tmp_path / 'audyt.sqlite'}")
    from tests.audit.conftest import security_event

    store.append(events=[security_event(0)])
    store.dispose()
    signed = audit("checkpoint")
    assert signed.returncode == 0, signed.stderr
    assert not (key.parent / "klucz-audytu.kotwice").exists()
    assert len([line for line in (tmp_path / "bezpieczne" / "kotwice").read_text().splitlines() if ":" in line]) >= 1
    checked = audit("verify")
    assert checked.returncode == 0 and "bezpieczne/kotwice" in checked.stdout, checked.stdout + checked.stderr
    HubCore.open(settings.load(config)).close()  # and the hub starts over it
