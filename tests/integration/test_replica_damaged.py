"""A replica file replaced behind the hub's back by something that is no database (attack pass): its data set
answers NIEDOSTEPNY, the others are served, and the hub's log gets one line per failure, never a traceback (each
query of the data set wrote two)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from zeep import Client
from zeep.wsse.username import UsernameToken

from tests.integration.test_documents import _serve


def test_a_replica_replaced_by_a_png_is_unavailable_and_logged_in_one_line(tmp_path: Path) -> None:
    demo = [sys.executable, "-m", "hub.cli", "demo", "--dir", str(tmp_path), "--no-serve", "--port", "0"]
    subprocess.run(
        [*demo, "--pup", "40", "--ops", "30", "--sr", "30", "--gminas", "1"], check=True, capture_output=True
    )
    (tmp_path / "replicas" / "sr.sqlite").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 4096)
    state = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    user = next(u for u in state["users"] if u["login"] == "ops.pracownik")
    pesel = next(b["pesel"] for b in state["beneficiaries"] if "SR" in b["data_sets"])
    process, base = _serve(tmp_path)
    try:
        service = Client(f"{base}/soap/zapytania?wsdl", wsse=UsernameToken(user["login"], user["password"])).service
        for _ in range(3):
            answer = service.ZapytanieOBeneficjenta(
                Zapytanie={
                    "IdentyfikatorBeneficjenta": {"Pesel": pesel},
                    "PodstawaPrawna": "UPS-2004",
                    "Cel": "Sprawdzenie repliki podmienionej poza platformą",
                    "Zbiory": {"Zbior": [{"Kod": "SR", "Zakres": {"Kategoria": ["DANE_OSOBOWE"]}}]},
                }
            )
            assert [r.Status for r in answer.Wyniki.Wynik] == ["NIEDOSTEPNY"], answer
    finally:
        process.terminate()
        process.wait(timeout=30)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    failures = [line for line in log.splitlines() if "replica of data set SR failed" in line]
    assert len(failures) == 3 and all("file is not a database" in line for line in failures), log[-3000:]
    assert pesel not in log
