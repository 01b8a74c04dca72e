"""Hostile and malformed SOAP: a fault with a stable code, nothing leaked, and the hub keeps serving.

Fixture files (tests/fixtures/xml/soap) are named for what they are; `__PASSWORD__` and `__PESEL__` are
filled in from the running demo.
"""

from __future__ import annotations

import select
import socket
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import FIXTURES
from tests.integration.conftest import MODEL, RunningHub

SOAP = FIXTURES / "xml" / "soap"
PASSWD_MARKERS = ("root:x:0:0", "/bin/bash", "/usr/sbin/nologin")


def post(hub: RunningHub, body: bytes, content_type: str = "text/xml; charset=utf-8") -> requests.Response:
    return requests.post(
        hub.endpoint, data=body, headers={"Content-Type": content_type, "SOAPAction": '""'}, timeout=30
    )


#: The address a fixture names for a remote entity (the discard port); tests point it at a `Listener`.
FIXTURE_NETWORK_ADDRESS = "127.0.0.1:9"


def envelope(hub: RunningHub, name: str, listener: Listener | None = None) -> bytes:
    path = SOAP / name
    raw = path.read_bytes()
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8"
    text = raw.decode(encoding)
    text = text.replace("__PASSWORD__", hub.user("pup.kierownik")["password"])
    text = text.replace("__PESEL__", hub.person("PUP", "OPS", "SR"))
    if listener is not None:
        text = text.replace(FIXTURE_NETWORK_ADDRESS, f"127.0.0.1:{listener.port}")
    return text.encode(encoding)


class Listener:
    """An HTTP server on 127.0.0.1 (port 0) in a thread that records every connection and answers with a
    DTD, so that a parser that fetched a remote entity would get one: its `fetched()` must stay empty."""

    ANSWER = b"HTTP/1.0 200 OK\r\nContent-Type: application/xml-dtd\r\n\r\n<!ENTITY wyciek 'pobrano'>\n"

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self._accept(timeout=0.05)

    def _accept(self, timeout: float) -> bool:
        with self._lock:
            if not select.select([self.server], [], [], timeout)[0]:
                return False
            connection, _address = self.server.accept()
            with connection:
                connection.settimeout(2)
                try:
                    self.requests.append(connection.recv(4096))
                    connection.sendall(self.ANSWER)
                except OSError:
                    self.requests.append(b"")
            return True

    def fetched(self) -> list[bytes]:
        """What was asked of the listener so far (connections still waiting to be accepted included)."""
        while self._accept(timeout=0):
            pass
        return list(self.requests)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    running = Listener()
    # It does hear: a fetch of the fixture's URL would be seen.
    with urllib.request.urlopen(f"http://127.0.0.1:{running.port}/zly.dtd", timeout=5) as answer:
        assert b"<!ENTITY" in answer.read()
    assert len(running.fetched()) == 1 and running.fetched()[0].startswith(b"GET /zly.dtd")
    running.requests.clear()
    yield running
    running.close()


def fault_of(response: requests.Response) -> tuple[str, str]:
    root = etree.fromstring(response.content)
    code = root.findtext(f".//{MODEL}Blad/{MODEL}Kod")
    message = root.findtext(".//faultstring")
    assert code is not None, response.text[:500]
    return code, message or ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("xxe_local_file.xml", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
        ("xxe_local_file_utf16.xml", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
        ("xxe_parameter_entity_network.xml", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
        ("external_dtd.xml", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
        ("billion_laughs.xml", "NIEDOZWOLONA_KONSTRUKCJA_XML"),
        ("malformed_unclosed_body.xml", "NIEPRAWIDLOWY_XML"),
        ("schema_violation_unknown_element.xml", "NIEZGODNOSC_ZE_SCHEMATEM"),
        ("unknown_operation.xml", "NIEZNANA_OPERACJA"),
    ],
)
def test_hostile_envelope_gets_a_fault_and_leaks_nothing(
    hub: RunningHub, listener: Listener, name: str, expected: str
) -> None:
    body = envelope(hub, name, listener)
    if name == "xxe_parameter_entity_network.xml":
        assert f"127.0.0.1:{listener.port}/zly.dtd".encode() in body
    response = post(hub, body)
    assert response.status_code == 500
    code, message = fault_of(response)
    assert code == expected
    assert message and "Traceback" not in response.text
    for marker in PASSWD_MARKERS:
        assert marker not in response.text
    assert listener.fetched() == [], "the hub fetched a remote entity"
    assert b"pobrano" not in response.content
    # ... and the hub still answers a good query right after.
    good = post(hub, envelope(hub, "valid_query.xml"))
    assert good.status_code == 200, good.text[:500]
    assert b"<" in good.content and b"Status>OK<" in good.content


def test_body_over_the_limit_is_refused_before_it_is_stored(hub: RunningHub) -> None:
    padding = b"<!-- " + b"x" * (2 * 1024 * 1024) + b" -->"
    body = envelope(hub, "valid_query.xml").replace(b"<soap:Envelope", padding + b"<soap:Envelope", 1)
    response = post(hub, body)
    assert response.status_code == 413
    assert fault_of(response)[0] == "ZBYT_DUZE_ZAPYTANIE"
    assert post(hub, envelope(hub, "valid_query.xml")).status_code == 200


def test_get_on_the_endpoint_is_not_a_query(hub: RunningHub) -> None:
    response = requests.get(hub.endpoint, timeout=10)
    assert response.status_code in (405, 500)
    assert "Traceback" not in response.text


def test_wsdl_is_served_with_the_real_address(hub: RunningHub) -> None:
    response = requests.get(hub.wsdl, timeout=10)
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    addresses = [a.get("location") for a in root.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")]
    assert addresses == [hub.endpoint]


def test_fixture_files_exist() -> None:
    names = {p.name for p in Path(SOAP).glob("*.xml")}
    assert {"xxe_local_file.xml", "billion_laughs.xml", "valid_query.xml"} <= names
