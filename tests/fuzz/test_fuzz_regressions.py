"""Every file of tests/fuzz/corpus/<target>/ replayed through its fuzz target's property, in the normal
suite: a fuzzer's finding saved there is a regression test from then on (docs/fuzzing.md).

A finding not yet fixed in the product is listed in `harness.KNOWN`: its test is a strict xfail that
expects exactly that failure; once the product is fixed it passes, the xfail fails, and the entry goes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fuzz import fuzz_feed, fuzz_settings, fuzz_soap, fuzz_xades, harness

CHECKS: dict[str, Callable[[bytes], None]] = {
    "soap": fuzz_soap.check,
    "feed": fuzz_feed.check,
    "xades": fuzz_xades.check,
    "settings": fuzz_settings.check,
}
KNOWN = {(finding.target, finding.fixture): finding for finding in harness.KNOWN}
CORPUS_LIMIT = 1_000_000  # bytes: seeds are a starting point, not a test suite of their own


class KnownFindingStillThere(Exception):
    """The known finding of a fixture still happens (what its strict xfail expects)."""


def _cases() -> Iterator[object]:
    for target in harness.TARGETS:
        for path in sorted((harness.CORPUS / target).iterdir()):
            known = KNOWN.get((target, path.name))
            marks = (
                [pytest.mark.xfail(strict=True, raises=KnownFindingStillThere, reason=known.reason)] if known else []
            )
            yield pytest.param(target, path, id=f"{target}/{path.name}", marks=marks)


@pytest.mark.parametrize(("target", "path"), list(_cases()))
def test_corpus_input_keeps_the_targets_property(target: str, path: Path) -> None:
    known = KNOWN.get((target, path.name))
    try:
        CHECKS[target](path.read_bytes())
    except Exception as error:
        if known is not None and harness.matches(known, target, error):
            raise KnownFindingStillThere(known.reason) from error
        raise


def test_every_known_finding_has_its_fixture() -> None:
    missing = [
        f"{k.target}/{k.fixture}" for k in harness.KNOWN if not (harness.CORPUS / k.target / k.fixture).is_file()
    ]
    assert not missing


def test_every_target_has_a_program_and_a_seed_corpus() -> None:
    for target in harness.TARGETS:
        assert (Path(__file__).parent / f"fuzz_{target}.py").is_file()
        assert any((harness.CORPUS / target).iterdir()), target
    assert set(CHECKS) == set(harness.TARGETS)


def test_the_seed_corpus_stays_small() -> None:
    total = sum(path.stat().st_size for path in harness.CORPUS.rglob("*") if path.is_file())
    assert total < CORPUS_LIMIT, f"{total} bytes in {harness.CORPUS}"


def test_the_soap_property_catches_a_server_fault_and_names_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    """A property that cannot fail finds nothing: break the query engine, and a valid query is a finding."""

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("zepsuty silnik zapytań")

    monkeypatch.setattr(fuzz_soap.demo_hub().core.query, "ask", broken)
    with pytest.raises(harness.Finding, match="Server") as caught:
        fuzz_soap.check((harness.CORPUS / "soap" / "valid_query.xml").read_bytes())
    assert harness.origin(caught.value) == ("RuntimeError", "hub/soap/services/zapytania.py:query")
