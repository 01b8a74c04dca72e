"""Benchmark of ``signing``: signatures/s and verifications/s on a ~20 KB document, side by side with
signxml's XAdES signer and verifier and with the raw RSA-2048 private-key operation of ``cryptography``
(the physical limit of a signature), all in one run.

    .venv/bin/python bench/signing.py [--size 20000] [--seconds 1.0] [--rounds 3] [--slices 20]

Every contender goes from bytes to bytes (parse, sign or verify, serialize). Within a round the
contenders take turns in short slices (``--slices`` turns of ``seconds / slices`` each), so that all of
them meet the same load on a shared machine; a ratio is the median over rounds of the ratio measured
within each round. The load average is printed with the results. signxml is used as its
users get it (schema validation on, a CA file for the chain, C14N 1.0); its verifier is given an
extension policy accepting nonRepudiation-only certificates, as Polish qualified ones are. Our verifier
does everything it does for the hub: XML-DSig core by xmlsec, wrapping checks, certification path,
CRL, QCStatements. Targets (issue 6): sign and verify at least 2x signxml; sign at least half the raw
RSA rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _round(contenders: dict[str, Callable[[], object]], seconds: float, slices: int) -> dict[str, float]:
    """Operations per second of every contender, in turns of ``seconds / slices`` until each had ``seconds``."""
    count = dict.fromkeys(contenders, 0)
    spent = dict.fromkeys(contenders, 0.0)
    share = seconds / slices
    for _ in range(slices):
        for name, operation in contenders.items():
            start = time.perf_counter()
            deadline = start + share
            while True:
                operation()
                count[name] += 1
                now = time.perf_counter()
                if now >= deadline:
                    break
            spent[name] += now - start
    return {name: count[name] / spent[name] for name in contenders}


def _load(average: tuple[float, float, float]) -> str:
    return "/".join(f"{value:.2f}" for value in average)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Podpisy XAdES: wydajność (nasze, signxml, surowe RSA).")
    parser.add_argument("--size", type=int, default=20_000, help="rozmiar dokumentu w bajtach (domyślnie 20000)")
    parser.add_argument("--seconds", type=float, default=1.0, help="czas jednego pomiaru (s)")
    parser.add_argument("--rounds", type=int, default=3, help="liczba rund (mediana)")
    parser.add_argument("--slices", type=int, default=20, help="na ile tur dzielić pomiar w rundzie")
    args = parser.parse_args(argv)

    # The repository root goes first: this file is itself named signing.py, and its own folder (first on
    # sys.path when run as a script) must not shadow the ``signing`` package.
    sys.path.insert(0, str(ROOT))
    import dataclasses
    import datetime as dt
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from lxml import etree
    from signxml.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

    from signing import (
        RevocationSources,
        SignerConfig,
        SoftwareKey,
        TrustStore,
        VerifierConfig,
        XadesSigner,
        XadesVerifier,
    )
    from signing import constants as c
    from tests.signing.documents import wniosek_of_size
    from tests.signing.pki import build_pki, synthetic_pesel

    now = dt.datetime.now(dt.UTC)
    pki = build_pki(now, ca_key_kind="rsa4096")
    person = pki.signer("Jan", "Testowy", pesel=synthetic_pesel(dt.date(1985, 3, 15), 123, female=False))
    document = wniosek_of_size(args.size)
    key = person.key
    public_key = person.cert.public_key()
    assert isinstance(key, rsa.RSAPrivateKey) and isinstance(public_key, rsa.RSAPublicKey)

    ours_signer = XadesSigner(SoftwareKey(key, person.cert))
    ours_xmlsec_signer = XadesSigner(SoftwareKey(key, person.cert), SignerConfig(core="xmlsec"))
    ours_signed = ours_signer.sign_enveloped(document)
    config = VerifierConfig(
        trust=TrustStore.from_certificates([pki.root.cert]),
        intermediates=(pki.qualified_ca.cert,),
        revocation=RevocationSources(crls=(pki.crl([]),)),
    )
    ours_verifier = XadesVerifier(config)
    ours_xmlsec_verifier = XadesVerifier(dataclasses.replace(config, core="xmlsec"))
    report = ours_verifier.verify(ours_signed)
    assert report.accepted and report.qualified, report.render()

    def signxml_sign() -> bytes:
        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
        signed = XAdESSigner(c14n_algorithm=c.C14N_10).sign(root, key=key, cert=[person.cert])
        return etree.tostring(signed)

    signxml_signed = signxml_sign()
    workdir = tempfile.TemporaryDirectory()
    ca_file = Path(workdir.name) / "ca.pem"
    ca_file.write_bytes(pki.root.cert_pem() + pki.qualified_ca.cert_pem())

    def key_usage(_policy: object, _cert: x509.Certificate, usage: x509.KeyUsage | None) -> None:
        if usage is None or not (usage.content_commitment or usage.digital_signature):
            raise ValueError("key usage")

    ee_policy = x509.verification.ExtensionPolicy.permit_all().require_present(
        x509.KeyUsage, x509.verification.Criticality.AGNOSTIC, key_usage
    )

    def signxml_verify() -> object:
        return XAdESVerifier().verify(
            signxml_signed,
            ca_pem_file=str(ca_file),
            ee_policy=ee_policy,
            expect_config=XAdESSignatureConfiguration(),
        )

    signxml_verify()
    signed_info_size = b"x" * 1200  # about the size of a canonical SignedInfo

    def raw_rsa_sign() -> bytes:
        return key.sign(signed_info_size, padding.PKCS1v15(), hashes.SHA256())

    raw_signature = raw_rsa_sign()

    def raw_rsa_verify() -> None:
        public_key.verify(raw_signature, signed_info_size, padding.PKCS1v15(), hashes.SHA256())

    def ours_verify_cold() -> object:
        return XadesVerifier(config).verify(ours_signed)

    contenders: dict[str, Callable[[], object]] = {
        "nasze: podpis": lambda: ours_signer.sign_enveloped(document),
        "nasze, rdzeń xmlsec: podpis": lambda: ours_xmlsec_signer.sign_enveloped(document),
        "signxml: podpis": signxml_sign,
        "surowe RSA-2048: operacja klucza prywatnego": raw_rsa_sign,
        "nasze: weryfikacja": lambda: ours_verifier.verify(ours_signed),
        "nasze: weryfikacja (nowy weryfikator za każdym razem)": ours_verify_cold,
        "nasze, rdzeń xmlsec: weryfikacja": lambda: ours_xmlsec_verifier.verify(ours_signed),
        "signxml: weryfikacja": signxml_verify,
        "surowe RSA-2048: operacja klucza publicznego": raw_rsa_verify,
    }
    for operation in contenders.values():
        operation()  # warm-up
    load_before = os.getloadavg()
    rounds = [_round(contenders, args.seconds, args.slices) for _ in range(args.rounds)]
    load_after = os.getloadavg()
    median = {name: statistics.median(rates[name] for rates in rounds) for name in contenders}
    workdir.cleanup()

    def ratio(ours: str, theirs: str) -> float:
        return statistics.median(rates[ours] / rates[theirs] for rates in rounds)

    print(f"Dokument: {len(document)} B ({len(ours_signed)} B z podpisem), klucz RSA-2048, SHA-256, C14N 1.0")
    print(f"Mediana z {args.rounds} rund po {args.seconds:.1f} s ({args.slices} tur na wykonawcę), jeden wątek")
    print(f"Obciążenie (load average 1/5/15 min): {_load(load_before)} przed, {_load(load_after)} po\n")
    width = max(len(name) for name in median)
    for name, value in median.items():
        print(f"  {name:<{width}}  {value:10.0f} /s")

    sign_vs_signxml = ratio("nasze: podpis", "signxml: podpis")
    sign_vs_raw = ratio("nasze: podpis", "surowe RSA-2048: operacja klucza prywatnego")
    verify_vs_signxml = ratio("nasze: weryfikacja", "signxml: weryfikacja")
    cold_vs_signxml = ratio("nasze: weryfikacja (nowy weryfikator za każdym razem)", "signxml: weryfikacja")
    verify_vs_raw = ratio("nasze: weryfikacja", "surowe RSA-2048: operacja klucza prywatnego")

    def verdict(ok: bool) -> str:
        return "cel osiągnięty" if ok else "CEL NIEOSIĄGNIĘTY"

    rows = [
        ("podpis: nasze / signxml", sign_vs_signxml, "cel >= 2", sign_vs_signxml >= 2),
        ("podpis: nasze / surowe RSA", sign_vs_raw, "cel >= 0.5", sign_vs_raw >= 0.5),
        ("weryfikacja: nasze / signxml", verify_vs_signxml, "cel >= 2", verify_vs_signxml >= 2),
        ("weryfikacja (zimna): nasze / signxml", cold_vs_signxml, "dla informacji", None),
        (
            "podpis, rdzeń xmlsec: nasze / signxml",
            ratio("nasze, rdzeń xmlsec: podpis", "signxml: podpis"),
            "dla informacji",
            None,
        ),
        (
            "weryfikacja, rdzeń xmlsec: nasze / signxml",
            ratio("nasze, rdzeń xmlsec: weryfikacja", "signxml: weryfikacja"),
            "dla informacji",
            None,
        ),
        ("weryfikacja: nasze / surowe RSA (prywatny)", verify_vs_raw, "dla informacji", None),
    ]
    print("\nStosunki:")
    for label, ratio, target, ok in rows:
        outcome = "" if ok is None else verdict(ok)
        print(f"  {label:<44} {ratio:5.2f}x  ({target:<14}) {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
