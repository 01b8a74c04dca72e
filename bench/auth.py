"""Cost of authentication on the query path (issue "Accounts"), measured side by side in one run.

Three variants of the same `ZapytanieOBeneficjenta`, sent to the same Spyne WSGI application in-process
(no sockets: the HTTP/TLS transport is the same for all three and would only add noise):

* `bez uwierzytelnienia`: the caller is fixed; no header is read, no account is checked;
* `UsernameToken`: WS-Security header, argon2id verified once, then the credential cache (each use still
  re-reads the account's state, so a lock applies at once);
* `certyfikat klienta`: the TLS layer's verified subject CN (as hub.soap.server passes it) maps to an office
  system, which names the end user in the `UzytkownikKoncowy` header.

Prints queries/s, the mean time per query, and the ratio of each to the unauthenticated variant
(target: above 0.8). Usage: `.venv/bin/python bench/auth.py [--seconds 5] [--people 2000]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spyne.server.wsgi import WsgiApplication

from demo.powiat import DemoSizes, prepare
from hub import settings as config_module
from hub.core import HubCore
from hub.domain.policy import Caller
from hub.soap.services import zapytania
from hub.soap.services.security import CLIENT_CN

ENVELOPE = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:z="urn:pl:platforma-komunikacyjna:zapytania:1">
<soap:Header>{header}</soap:Header>
<soap:Body><z:ZapytanieOBeneficjenta><z:Zapytanie>
<z:IdentyfikatorBeneficjenta><z:Pesel>{pesel}</z:Pesel></z:IdentyfikatorBeneficjenta>
<z:PodstawaPrawna>UPS-2004</z:PodstawaPrawna><z:Cel>Pomiar kosztu uwierzytelnienia</z:Cel>
<z:Zbiory><z:Zbior><z:Kod>PUP</z:Kod><z:Zakres><z:Kategoria>DANE_OSOBOWE</z:Kategoria>
<z:Kategoria>OKRESY_REJESTRACJI</z:Kategoria></z:Zakres></z:Zbior></z:Zbiory>
</z:Zapytanie></z:ZapytanieOBeneficjenta></soap:Body></soap:Envelope>"""

TOKEN = """<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
<wsse:UsernameToken><wsse:Username>{login}</wsse:Username><wsse:Password>{password}</wsse:Password>
</wsse:UsernameToken></wsse:Security>"""

END_USER = '<z:UzytkownikKoncowy><z:Login>{login}</z:Login></z:UzytkownikKoncowy>'


def call(app: WsgiApplication, body: bytes, extra: dict[str, str]) -> bytes:
    """One POST through the WSGI application; returns the response body."""
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "SERVER_PROTOCOL": "HTTP/1.1",
        **extra,
    }
    chunks = app(environ, lambda s, _h: status.append(s))
    payload = b"".join(chunks)
    if not status or not status[0].startswith("200"):
        raise RuntimeError(f"query failed: {status} {payload[:300]!r}")
    return payload


def measure(app: WsgiApplication, body: bytes, extra: dict[str, str], seconds: float) -> tuple[float, float]:
    """Queries per second and the median of per-batch mean latency (ms)."""
    for _ in range(50):
        call(app, body, extra)
    done, started, batches = 0, time.perf_counter(), []
    while time.perf_counter() - started < seconds:
        batch_start = time.perf_counter()
        for _ in range(50):
            call(app, body, extra)
        batches.append((time.perf_counter() - batch_start) / 50 * 1000)
        done += 50
    elapsed = time.perf_counter() - started
    return done / elapsed, statistics.median(batches)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="czas pomiaru każdego wariantu (s)")
    parser.add_argument("--people", type=int, default=2000, help="liczba osób w zbiorze PUP")
    parser.add_argument("--rounds", type=int, default=3, help="ile razy powtórzyć serię trzech wariantów")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    try:
        state = prepare(directory, sizes=DemoSizes(args.people, 200, 200))
        config = config_module.load(state["config"])
        text = Path(state["config"]).read_text(encoding="utf-8")
        Path(state["config"]).write_text(
            text + '\n[[systems]]\nname = "POMOST OPS"\noffice = "OPS"\nsubject_cn = "system-ops"\n', encoding="utf-8"
        )
        config = config_module.load(state["config"])
        core = HubCore.open(config)
        user = next(u for u in state["users"] if u["login"] == "ops.pracownik")
        pesel = next(b["pesel"] for b in state["beneficiaries"] if "PUP" in b["data_sets"])
        fixed = Caller(user["login"], user["office"], user["group"])

        def no_authentication(ctx: Any) -> None:
            ctx.udc = {"caller": fixed, "request_id": "bench"}

        plain = WsgiApplication(zapytania.build_application(core, identify=no_authentication))
        secured = WsgiApplication(zapytania.build_application(core))
        variants = {
            "bez uwierzytelnienia": (plain, ENVELOPE.format(header="", pesel=pesel), {}),
            "UsernameToken": (
                secured,
                ENVELOPE.format(header=TOKEN.format(login=user["login"], password=user["password"]), pesel=pesel),
                {},
            ),
            "certyfikat klienta": (
                secured,
                ENVELOPE.format(header=END_USER.format(login=user["login"]), pesel=pesel),
                {CLIENT_CN: "system-ops"},
            ),
        }
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.rounds):  # interleaved, so drift of the machine hits every variant alike
            for name, (app, body, extra) in variants.items():
                results[name].append(measure(app, body.encode(), extra, args.seconds))
        core.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    base = statistics.median(r[0] for r in results["bez uwierzytelnienia"])
    print(f"maszyna: {os.cpu_count()} rdzenie; {args.rounds} serie po {args.seconds:.0f} s na wariant; "
          f"PUP {args.people} osób; jeden wątek, bez sieci")
    print(f"{'wariant':<22}{'zapytań/s':>12}{'ms/zapytanie':>15}{'stosunek':>10}")
    summary = {}
    for name, values in results.items():
        rate = statistics.median(v[0] for v in values)
        latency = statistics.median(v[1] for v in values)
        summary[name] = {"queries_per_s": round(rate, 1), "ms_per_query": round(latency, 3),
                         "ratio": round(rate / base, 3)}
        print(f"{name:<22}{rate:>12.1f}{latency:>15.3f}{rate / base:>10.3f}")
    worst = min(v["ratio"] for v in summary.values())
    print(f"cel: stosunek > 0.8 — {'spełniony' if worst > 0.8 else 'NIESPEŁNIONY'} (najgorszy {worst:.3f})")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
