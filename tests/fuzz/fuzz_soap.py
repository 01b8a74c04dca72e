"""Fuzz target `soap`: the query service's SOAP request path, in process, up to the query engine.

A tiny demo powiat (demo/powiat.py `prepare`) is made once in a temporary folder and opened as a real
`HubCore`; the query service's Spyne application (`hub.soap.services.zapytania.build_application`) is
called as the server mounts it, a `WsgiApplication`, with a WSGI environ and the fuzzed bytes as the POST
body: no sockets. In a body, `__PASSWORD__` becomes pup.kierownik's demo password,
`__PASSWORD_ASYSTENT__` ops.asystent's and `__PESEL__` a person known to all three data sets, so that
seeds with a valid WS-Security UsernameToken reach the query engine.

Property: nothing escapes the application; the answer is 200, or 500 with a SOAP Fault; a fault is the
sender's (`soap:Client`), never `soap:Server`: every input here is the caller's doing.

    .venv/bin/python tests/fuzz/fuzz_soap.py -max_total_time=30 corpus_dir
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import io
import logging
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # run as a program: the repository root is not on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from argon2 import PasswordHasher
from lxml import etree
from sqlalchemy import update

from tests.fuzz import harness

with harness.instrumented(__name__ == "__main__", "hub", "contract", "replica", "spyne"):
    from spyne import Fault
    from spyne import const as spyne_const
    from spyne.server.wsgi import WsgiApplication

    from demo.powiat import DemoSizes, prepare
    from hub import settings
    from hub.core import HubCore
    from hub.settings import Config
    from hub.soap.services.zapytania import build_application
    from hub.storage.tables import User

SOAP_ENV = "{http://schemas.xmlsoap.org/soap/envelope/}"
MODEL = "{urn:pl:platforma-komunikacyjna:model:1}"
SIZES = DemoSizes(pup=40, ops=20, sr=20)
# argon2 reads its parameters from the stored hash: with these a wrong password costs 0.03 ms instead of
# the default's 220 ms, so a mutated UsernameToken does not stall the fuzzer; the code path is the same.
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@dataclass(frozen=True)
class DemoHub:
    """The query service over a demo powiat, and what the placeholders in a body stand for."""

    application: WsgiApplication
    core: HubCore
    placeholders: tuple[tuple[bytes, bytes], ...]

    def body(self, data: bytes) -> bytes:
        for marker, value in self.placeholders:
            data = data.replace(marker, value)
        return data


@functools.cache
def demo_hub() -> DemoHub:
    """Made once per process: the demo powiat, its core, and the query service's WSGI application."""
    folder = Path(tempfile.mkdtemp(prefix="fuzz-soap-"))
    state = prepare(folder, sizes=SIZES, gminas=1)  # one gmina: the PUP, OPS and SR the seeds name
    passwords = {user["login"]: user["password"] for user in state["users"]}
    core = HubCore.open(_cheap_hashes(settings.load(state["config"]), passwords))
    # The hash an unknown login is checked against (so that it takes as long as a known one).
    core.accounts._dummy_hash = CHEAP.hash("nie-ma-takiego-konta")
    atexit.register(_close, core, folder)
    # As hub/soap/server.py `build_site` does: no full gc.collect() from every request.
    spyne_const.MIN_GC_INTERVAL = float("inf")
    application = WsgiApplication(build_application(core), max_content_length=core.config.hub.max_request_bytes)
    everyone = next(b["pesel"] for b in state["beneficiaries"] if b["data_sets"] == ["PUP", "OPS", "SR"])
    placeholders = (
        (b"__PASSWORD_ASYSTENT__", passwords["ops.asystent"].encode()),
        (b"__PASSWORD__", passwords["pup.kierownik"].encode()),
        (b"__PESEL__", everyone.encode()),
    )
    return DemoHub(application, core, placeholders)


def _cheap_hashes(config: Config, passwords: dict[str, str]) -> Config:
    users = tuple(u.model_copy(update={"password_hash": CHEAP.hash(passwords[u.login])}) for u in config.users)
    return config.model_copy(update={"users": users})


def _close(core: HubCore, folder: Path) -> None:
    core.close()
    shutil.rmtree(folder, ignore_errors=True)


def post(hub: DemoHub, body: bytes) -> tuple[str, bytes]:
    """POST `body` to the query service as the server's WSGI container would; (status line, response)."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "/soap/zapytania",
        "PATH_INFO": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "text/xml; charset=utf-8",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_SOAPACTION": '""',
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        statuses.append(status)

    chunks = hub.application(environ, start_response)
    try:
        payload = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return statuses[-1] if statuses else "", payload


class _Errors(logging.Handler):
    """Keeps the exceptions logged while a request runs (the cause of a soap:Server fault).

    Spyne logs every fault it sends, with its traceback; a soap:Client fault is not an error of ours.
    """

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.exceptions: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if error is None or (
            isinstance(error, Fault) and str(error.faultcode).startswith(("Client", "MustUnderstand"))
        ):
            return
        self.exceptions.append(error)


@contextlib.contextmanager
def _logged_errors() -> Iterator[_Errors]:
    handler = _Errors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def check(data: bytes) -> None:
    """POST `data` (placeholders filled); the answer must be 200, or 500 with a soap:Client fault."""
    hub = demo_hub()
    with _logged_errors() as logged:
        status, payload = post(hub, hub.body(data))
    if b"BLEDNE_UWIERZYTELNIENIE" in payload:
        unlock_all(hub)  # a fuzzed password must not lock the demo accounts for the inputs after it
    cause = logged.exceptions[0] if logged.exceptions else None
    code = status.split(" ", 1)[0]
    if code not in ("200", "500"):
        raise harness.Finding(f"HTTP {status!r}: {payload[:300]!r}", cause)
    try:
        envelope = etree.fromstring(payload)
    except etree.XMLSyntaxError as error:
        raise harness.Finding(f"HTTP {status}: the answer is not XML: {payload[:300]!r}", cause) from error
    fault = envelope.find(f"{SOAP_ENV}Body/{SOAP_ENV}Fault")
    if code == "200":
        if fault is not None:
            raise harness.Finding("HTTP 200 with a SOAP Fault", cause)
        return
    if fault is None:
        raise harness.Finding(f"HTTP 500 without a SOAP Fault: {payload[:300]!r}", cause)
    faultcode = fault.findtext("faultcode") or ""
    # soap:MustUnderstand and soap:VersionMismatch are the caller's doing too: a mandatory header the hub does
    # not process (SOAP 1.1 4.2.3), an envelope of SOAP 1.2 (4.4.1)
    if not faultcode.endswith(("Client", "MustUnderstand", "VersionMismatch")):
        blad = fault.findtext(f"detail/{MODEL}Blad/{MODEL}Kod")
        raise harness.Finding(f"{faultcode} fault ({blad}) for a caller's input", cause)
    if logged.exceptions:
        raise harness.Finding("soap:Client fault, but an exception was logged", cause)


def unlock_all(hub: DemoHub) -> None:
    """Undo the failed logins a fuzzed password leaves behind (five lock an account for good)."""
    with hub.core.accounts.engine.begin() as connection:
        connection.execute(update(User).values(failed_attempts=0, locked=False, locked_until=None))
    hub.core.accounts.forget()


if __name__ == "__main__":
    harness.main("soap", check)
