"""The hub's HTTP server: Spyne WSGI applications served by Twisted (`twisted.web.wsgi.WSGIResource`).

Spyne's own Twisted transport is broken on current Twisted (STACK.md), so each SOAP service is a
`WsgiApplication` under a `WSGIResource` on the reactor's thread pool. Request bodies over the configured
limit are refused here, before they are stored, with a SOAP fault.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import hmac
import html
import importlib
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from lxml import etree
from spyne import const as spyne_const
from spyne.server.wsgi import WsgiApplication
from twisted.internet import error, ssl, task, tcp, threads
from twisted.internet import reactor as default_reactor
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.threadpool import ThreadPool
from twisted.web import resource, server
from twisted.web.wsgi import WSGIResource, _WSGIResponse

from contract.errors import MethodNotAllowed, UnknownService
from hub.core import HubCore
from hub.domain.accounts import Accounts, Reservation
from hub.settings import HubSettings
from hub.soap import contracts
from hub.soap.services import SERVICES, faults
from hub.soap.services.protocol import SOAP_ENV
from hub.soap.services.security import CLIENT_CN, RESERVATION, UsernameToken, arrival_token

log = logging.getLogger(__name__)


def fault_envelope(code: str, message: str, faultcode: str = "Client") -> bytes:
    """A SOAP 1.1 fault envelope built without Spyne (for refusals before a request reaches it)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP_ENV}}}Fault")
    etree.SubElement(fault, "faultcode").text = f"soap:{faultcode}"
    etree.SubElement(fault, "faultstring").text = message
    detail = etree.SubElement(fault, "detail")
    detail.append(faults.error_detail(code, message))
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


class LimitedRequest(server.Request):
    """A request whose body is not stored past `max_bytes`; such a request gets a fault, not the service."""

    max_bytes = 1_048_576

    def gotLength(self, length: int | None) -> None:
        self._received = 0
        self._too_large = length is not None and length > self.max_bytes
        if self._too_large:
            length = 0  # keep nothing of the body in memory or on disk
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self.max_bytes:
            self._too_large = True
        if not self._too_large:
            super().handleContentChunk(data)

    def process(self) -> None:
        if getattr(self, "_too_large", False):
            body = fault_envelope(
                "ZBYT_DUZE_ZAPYTANIE",
                f"Zapytanie jest większe niż dopuszczalne {self.max_bytes} bajtów.",
            )
            self.setResponseCode(413)
            self.setHeader(b"Content-Type", b"text/xml; charset=utf-8")
            self.setHeader(b"Connection", b"close")
            self.write(body)
            self.finish()
            return
        super().process()


class Arrivals:
    """Counts a request's login attempt as it arrives (`Accounts.reserve_on_arrival`), on a thread of its own.

    The WSGI threads are few (`[hub] threads`) and a password check holds one for about 0.1 s, so requests
    wait in each process's queue; counted only when a thread took them, a right password sent after eight
    wrong ones could be served by an idle process while the guesses sent before it still waited in another's
    queue. This thread does nothing slow (one parse, one UPDATE), so attempts are counted in the order the
    requests reach the hub, whichever process takes them.

    A credential this process remembers needs no check, so nothing is counted for it; the token's text, once
    seen remembered, is known by an HMAC of its bytes until the credential's time runs out, and is not parsed
    again here (bench/query.py: reading the header cost about 30 µs of the I/O thread per request).
    """

    MAX_KNOWN = 10_000  # token texts remembered at once; past that, the list starts again

    def __init__(self, accounts: Accounts, reactor: Any) -> None:
        self.accounts = accounts
        self.reactor = reactor
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="przybycia")
        reactor.callWhenRunning(self.pool.start)
        reactor.addSystemEventTrigger("during", "shutdown", self.pool.stop)
        self._key = secrets.token_bytes(32)
        self._known: dict[bytes, float] = {}  # HMAC of a token's text: until when (time.monotonic())

    def _text_key(self, body: bytes) -> bytes | None:
        """An HMAC of the text between the first and the last `UsernameToken` (the token's name, password,
        nonce and time), or None when there is no such text."""
        start, end = body.find(b"UsernameToken"), body.rfind(b"UsernameToken")
        return hmac.digest(self._key, body[start:end], "sha256") if 0 <= start < end else None

    def admit(self, body: bytes, environ: dict[str, Any], then: Any) -> None:
        """Call `then()` in the I/O thread once the attempt, if the body carries a password to check, is
        counted and its reservation is in `environ`. Whatever goes wrong here, the request still goes on (its
        thread then counts the attempt itself, as it would without this)."""
        try:
            token = self._token_to_count(body)
            deferred = None
            if token is not None:
                deferred = threads.deferToThreadPool(
                    self.reactor, self.pool, self.accounts.reserve_on_arrival, token.login, token.password
                )
        except Exception as failure:
            log.error("reading a login attempt on arrival failed: %s", failure)
            deferred = None
        if deferred is None:
            then()
            return

        def reserved(reservation: Reservation | None) -> None:
            if reservation is not None:
                environ[RESERVATION] = reservation
            then()

        def failed(failure: Any) -> None:
            log.error("counting a login attempt on arrival failed: %s", failure.value)
            then()

        deferred.addCallbacks(reserved, failed)

    def _token_to_count(self, body: bytes) -> UsernameToken | None:
        """The body's UsernameToken if its password will be checked: not one this process remembers."""
        if b"UsernameToken" not in body:
            return None
        key = self._text_key(body)
        if key is not None and self._known.get(key, 0.0) > time.monotonic():
            return None
        token = arrival_token(body)
        if token is None:
            return None
        until = self.accounts.remembered_until(token.login, token.password)
        if until is None:
            return token
        if key is not None:
            if len(self._known) >= self.MAX_KNOWN:
                self._known.clear()
            self._known[key] = until
        return None


class _HubWSGIResponse(_WSGIResponse):
    """A WSGI response that gives back the login attempt reserved on arrival if the request did not use it."""

    def __init__(self, reactor: Any, threadpool: Any, application: Any, request: Any, accounts: Accounts | None):
        super().__init__(reactor, threadpool, application, request)
        self._accounts = accounts

    def run(self) -> None:
        try:
            super().run()
        finally:
            reservation = self.environ.get(RESERVATION)
            if self._accounts is not None and isinstance(reservation, Reservation) and not reservation.taken:
                try:
                    self._accounts.release(reservation)
                except Exception as failure:
                    log.error("giving back an unused login attempt failed: %s", failure)


class ClientCertificateWSGIResource(WSGIResource):
    """A `WSGIResource` that tells the application the subject CN of the TLS client certificate.

    Twisted's WSGI environ carries no TLS details; the office systems authenticate with certificates
    (DESIGN.md, Security), so the verified peer's common name is added as `platforma.client_subject_cn`.
    With `arrivals`, a UsernameToken's login attempt is counted before the request waits for a thread.
    """

    def __init__(self, reactor: Any, threadpool: Any, application: Any, arrivals: Arrivals | None = None) -> None:
        super().__init__(reactor, threadpool, application)
        self._arrivals = arrivals

    def render(self, request: server.Request) -> Any:
        if (request.postpath or []) not in ([], [b""]):
            # `/soap/zapytania/x` was served as the service, and its `?wsdl` published `…/soap/zapytania/xzapytania`.
            return _unknown_address(request)
        encoding = (request.getHeader(b"content-encoding") or b"identity").strip().lower()
        if request.method == b"POST" and encoding != b"identity":
            # A compressed body (CXF's GZIPFeature, .NET above a size) read as XML was "not XML" (500).
            request.setHeader(b"Accept-Encoding", b"identity")
            named = encoding.decode(errors="replace")[:40]
            message = f"Platforma nie przyjmuje zapytań kodowanych (Content-Encoding: {named}); wyślij bez kompresji."
            return _polish_answer(request, 415, MethodNotAllowed.code, message)
        accounts = self._arrivals.accounts if self._arrivals is not None else None
        response = _HubWSGIResponse(self._reactor, self._threadpool, self._application, request, accounts)
        response.environ.pop(CLIENT_CN, None)
        response.environ.pop(RESERVATION, None)
        if request.method == b"HEAD":
            # HEAD wherever GET works (`?wsdl`): the application answers it as GET and Twisted sends no body.
            response.environ["REQUEST_METHOD"] = "GET"
        if not response.environ.get("CONTENT_LENGTH") and request.content is not None:
            # A chunked body (Transfer-Encoding: chunked, as JAX-WS and CXF send larger requests) has no
            # Content-Length: Twisted passes an empty one and Spyne read nothing, "not XML". The body is
            # already whole here (LimitedRequest), so its size is known.
            content = request.content
            position = content.tell()
            response.environ["CONTENT_LENGTH"] = str(content.seek(0, os.SEEK_END))
            content.seek(position)
        peer = _peer_common_name(request)
        if peer:
            response.environ[CLIENT_CN] = peer
        if self._arrivals is None or request.content is None or request.method != b"POST":
            response.start()
        else:
            self._arrivals.admit(_body(request.content), response.environ, response.start)
        return server.NOT_DONE_YET


def _body(content: Any) -> bytes:
    """The whole request body, leaving the file where it was for the application."""
    position = content.tell()
    content.seek(0)
    try:
        return bytes(content.read())
    finally:
        content.seek(position)


def _peer_common_name(request: server.Request) -> str | None:
    transport = getattr(request.channel, "transport", None)
    get_certificate = getattr(transport, "getPeerCertificate", None)
    if get_certificate is None:
        return None
    try:
        certificate = get_certificate()
    except Exception:  # not a TLS connection, or no certificate presented
        return None
    if certificate is None:
        return None
    common_name = certificate.get_subject().CN
    return str(common_name) if common_name else None


def _check_tls_files(settings: HubSettings, where: str) -> None:
    """Each TLS file is what its field says, named in one Polish line (`platforma.toml:hub.tls_key: …`) before
    OpenSSL reads it: its own errors are English lists, and an encrypted key made it ask for a pass phrase on
    the terminal."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from contract.errors import ConfigurationError

    def problem(field: str, text: str) -> ConfigurationError:
        return ConfigurationError(f"{where}hub.{field}: {text}")

    def read(field: str, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as error:
            raise problem(field, f"nie można odczytać pliku {path} ({error.strerror})") from None

    try:
        certificate = x509.load_pem_x509_certificates(read("tls_certificate", str(settings.tls_certificate)))[0]
    except ValueError:
        raise problem("tls_certificate", "plik nie zawiera certyfikatu PEM (-----BEGIN CERTIFICATE-----)") from None
    try:
        key = serialization.load_pem_private_key(read("tls_key", str(settings.tls_key)), password=None)
    except TypeError:
        raise problem(
            "tls_key", "klucz jest zaszyfrowany hasłem; hub potrzebuje klucza bez hasła, chronionego prawami 0600"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise problem("tls_key", "plik nie zawiera klucza prywatnego PEM (-----BEGIN PRIVATE KEY-----)") from None
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.PEM, spki) != certificate.public_key().public_bytes(
        serialization.Encoding.PEM, spki
    ):
        raise problem("tls_key", "klucz nie pasuje do certyfikatu podanego w tls_certificate")
    if settings.client_ca:
        try:
            x509.load_pem_x509_certificates(read("client_ca", str(settings.client_ca)))
        except ValueError:
            raise problem("client_ca", "plik nie zawiera certyfikatów PEM urzędów certyfikacji") from None


def tls_options(settings: HubSettings, where: str = "") -> ssl.CertificateOptions | None:
    """Server TLS from the configured certificate and key; with a client CA, client certificates are required.
    `where` names the configuration file in a problem's message (`platforma.toml:`)."""
    if not settings.tls_certificate or not settings.tls_key:
        return None
    _check_tls_files(settings, where)
    with open(settings.tls_certificate, "rb") as cert_file, open(settings.tls_key, "rb") as key_file:
        own = ssl.PrivateCertificate.loadPEM(cert_file.read() + b"\n" + key_file.read())
    if not settings.client_ca:
        return ssl.CertificateOptions(privateKey=own.privateKey.original, certificate=own.original)
    from cryptography import x509

    with open(settings.client_ca, "rb") as ca_file:
        bundle = ca_file.read()
    authorities = [ssl.Certificate.loadPEM(c.public_bytes(_pem())) for c in x509.load_pem_x509_certificates(bundle)]
    options = ssl.CertificateOptions(
        privateKey=own.privateKey.original,
        certificate=own.original,
        verify=True,
        caCerts=[a.original for a in authorities],
        requireCertificate=True,
    )
    if settings.client_crl:  # a revoked office system is refused at the handshake; the CRL is re-read on change
        from contract.errors import ConfigurationError
        from signing import SigningError
        from signing.tls_revocation import ClientRevocation

        try:
            revocation = ClientRevocation(settings.client_ca, settings.client_crl)
        except SigningError as error:
            raise ConfigurationError(f"{where}hub.client_crl: {error.message}") from error
        revocation.install(options.getContext())
    return options


def _pem() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


class ContractWsgiApplication(WsgiApplication):
    """A Spyne WSGI application whose `?wsdl` is the exported contract (`hub.soap.contracts.wsdl`): the bytes
    of `wsdl/<service>.wsdl` with this hub's address in `soap:address`, the same across restarts.

    The address is `public_url` when configured, else the one the request was made to (as Spyne did); the
    document is never built from one caller's Host header and cached for the next (Spyne's own behaviour).
    """

    def __init__(self, app: Any, service: str, public_url: str | None, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.service = service
        self.public_url = public_url

    def handle_wsdl_request(self, req_env: Any, start_response: Any, url: str) -> Any:
        if self.public_url:
            base = self.public_url.rstrip("/") + "/soap/"
        else:
            base = url.removesuffix("/").removesuffix(self.service)
        body = contracts.wsdl(self.service, base)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]


def _services_listed() -> str:
    return ", ".join(f"/soap/{s.path}" for s in SERVICES)


def _polish_answer(request: server.Request, status: int, code: str, message: str) -> bytes:
    """An answer Twisted's English page was: to a POST (a SOAP client) a SOAP Fault with a stable code, to
    anything else the sentence as text."""
    request.setResponseCode(status)
    if request.method == b"POST":
        request.setHeader(b"Content-Type", b"text/xml; charset=utf-8")
        return fault_envelope(code, message)
    request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
    return message.encode("utf-8")


def _unknown_address(request: server.Request) -> bytes:
    """404 for an address the hub does not serve (a SOAP client at a mistyped address): `NIEZNANA_USLUGA`."""
    path = (request.path or b"/").decode("utf-8", errors="replace")[:200]
    message = f"Pod adresem {path} nie ma usługi platformy. Usługi SOAP: {_services_listed()} (opis: dopisz ?wsdl)."
    return _polish_answer(request, 404, UnknownService.code, message)


def _method_not_allowed(request: server.Request) -> bytes:
    """405 for a page or schema asked with another method than GET: `NIEDOZWOLONE_ZADANIE`."""
    request.setHeader(b"Allow", b"GET, HEAD")
    message = f"Ten adres obsługuje tylko metodę GET. Usługi SOAP wywołuj metodą POST: {_services_listed()}."
    return _polish_answer(request, 405, MethodNotAllowed.code, message)


class _Folder(resource.Resource):
    """`/` and `/soap/`: their children are the hub's pages and services; any other address is answered in
    Polish (`_unknown_address`), as is the folder itself when it is not a page."""

    def getChild(self, path: bytes, request: server.Request) -> resource.Resource:
        return _Unknown()

    def render(self, request: server.Request) -> bytes:
        return _unknown_address(request)


class _Unknown(resource.Resource):
    isLeaf = True

    def render(self, request: server.Request) -> bytes:
        return _unknown_address(request)


class _GetOnly(resource.Resource):
    """A page or file: any other method than GET (HEAD) is a Polish 405 (`_method_not_allowed`)."""

    def render(self, request: server.Request) -> bytes:
        if request.method not in (b"GET", b"HEAD"):
            return _method_not_allowed(request)
        return super().render(request)


class SchemaFiles(_GetOnly):
    """`/xsd/<file>`: the published schemas, the contracts' and the document types'
    (`hub.soap.contracts.published_schemas`), the bytes of `xsd/<file>`."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        name = (request.postpath or [b""])[0].decode("utf-8", errors="replace")
        files = contracts.published_schemas()
        if len(request.postpath or []) != 1 or name not in files:
            request.setResponseCode(404)
            request.setHeader(b"Content-Type", b"text/plain; charset=utf-8")
            return b"Nie ma takiego schematu."
        request.setHeader(b"Content-Type", b"application/xml")
        return files[name]


class IndexPage(_GetOnly):
    """A short Polish page at `/` naming the services and their WSDLs."""

    isLeaf = True

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def render_GET(self, request: server.Request) -> bytes:
        items = "".join(
            f'<li><a href="/soap/{s.path}?wsdl">/soap/{s.path}?wsdl</a> — {html.escape(s.title)}</li>' for s in SERVICES
        )
        page = (
            '<!doctype html><html lang="pl"><head><meta charset="utf-8">'
            f"<title>Platforma komunikacyjna — {html.escape(self.name)}</title></head><body>"
            f"<h1>Platforma komunikacyjna</h1><p>{html.escape(self.name)}</p>"
            f"<h2>Usługi SOAP</h2><ul>{items}</ul></body></html>"
        )
        request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        return page.encode("utf-8")


def build_site(core: HubCore, reactor: Any = default_reactor) -> server.Site:
    """The Twisted site of the hub: `/`, `/soap/<service>` (`?wsdl`: its contract) and `/xsd/<file>`."""
    # Spyne runs a full gc.collect() from every request context at most once a second: with the hub's
    # object count that is a 30-40 ms stall each second (bench/query.py). Python's own GC still runs.
    spyne_const.MIN_GC_INTERVAL = float("inf")
    faults.quiet_client_faults()
    root: Any = _Folder()
    root.putChild(b"", IndexPage(core.config.hub.name))
    soap: Any = _Folder()
    root.putChild(b"soap", soap)
    limit = core.config.hub.max_request_bytes
    root.putChild(b"xsd", SchemaFiles())
    public_url = core.config.hub.public_url
    arrivals = Arrivals(core.accounts, reactor)
    for service in SERVICES:
        application = importlib.import_module(service.module).build_application(core)
        wsgi = ContractWsgiApplication(application, service.path, public_url, max_content_length=limit)
        wsgi_resource = ClientCertificateWSGIResource(reactor, reactor.getThreadPool(), wsgi, arrivals)
        soap.putChild(service.path.encode(), wsgi_resource)
    site = server.Site(root)
    request_class = type("HubRequest", (LimitedRequest,), {"max_bytes": limit})
    site.requestFactory = request_class  # type: ignore[assignment]
    site.displayTracebacks = False
    return site


def listening_socket(listen: str, port: int) -> socket.socket:
    """A bound, listening, non-blocking TCP socket that several worker processes can share."""
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((listen, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


class _CountedServer(tcp.Server):
    """A connection that keeps its port's count of open connections."""

    def __init__(self, sock: socket.socket, protocol: Any, client: Any, server: Any, sessionno: int, reactor: Any):
        super().__init__(sock, protocol, client, server, sessionno, reactor)
        server.open_connections += 1

    def connectionLost(self, reason: Any) -> None:
        port: Any = self.server
        port.open_connections -= 1
        super().connectionLost(reason)


class SharedPort(tcp.Port):
    """A listening port on the socket the worker processes share, that spreads connections over them.

    Twisted's port accepts up to 100 waiting connections at once, so the first worker to wake took every
    connection a client opened together and the other idled (bench/query.py: 2 workers, 8 keep-alive
    connections). Here a worker takes one connection per wake-up, and a worker that already holds k
    connections looks again only after k ms (at most `MAX_DEFER`): a worker holding fewer takes the
    connection first, and none is left waiting for long when every worker is busy.
    """

    transport = _CountedServer
    MAX_DEFER = 0.005
    open_connections = 0
    _deferred: Any = None

    def doRead(self) -> None:
        if self.open_connections and self._deferred is None:
            self.stopReading()
            self._deferred = self.reactor.callLater(min(0.001 * self.open_connections, self.MAX_DEFER), self._look)
            return
        self.numberAccepts = 1
        super().doRead()

    def _look(self) -> None:
        self.startReading()
        self.doRead()
        self._deferred = None

    def connectionLost(self, reason: Any) -> None:
        if self._deferred is not None and self._deferred.active():
            self._deferred.cancel()
        self._deferred = None
        super().connectionLost(reason)


def spawn_workers(
    config_path: str, sock: socket.socket, count: int, extra: list[str] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Start `count` more hub processes serving the same socket (one Python process is one core's worth)."""
    command = [sys.executable, "-m", "hub.cli", "serve", "--config", config_path, "--listen-fd", str(sock.fileno())]
    command += extra or []
    environment = {**os.environ, PARENT_VARIABLE: str(os.getpid())}
    return [subprocess.Popen(command, pass_fds=(sock.fileno(),), env=environment) for _ in range(count)]


#: The environment variable through which a worker learns which process started it (`follow_parent`).
PARENT_VARIABLE = "PLATFORMA_PROCES_NADRZEDNY"


def follow_parent() -> None:
    """In a worker: end with the process that started it, even when that one is killed with SIGKILL and has no
    chance to stop its workers (Linux PR_SET_PDEATHSIG), so that a restart finds the port free. A worker whose
    parent is already gone when it starts ends at once."""
    expected = os.environ.get(PARENT_VARIABLE)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the first process still stops its workers when it stops
        return
    if expected is not None and str(os.getppid()) != expected:
        os.kill(os.getpid(), signal.SIGTERM)


_PR_SET_PDEATHSIG = 1


def serve(
    core: HubCore,
    listen: str,
    port: int,
    on_ready: Any = None,
    reactor: Any = default_reactor,
    *,
    sock: socket.socket | None = None,
    workers: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """Listen on `listen:port` (0 picks a free port), or on an inherited socket, and run until stopped."""
    reactor.suggestThreadPoolSize(core.config.hub.threads)
    site = build_site(core, reactor)
    options = tls_options(core.config.hub, f"{core.config.path.name}:")
    if sock is not None:
        factory: Any = site if options is None else TLSMemoryBIOFactory(options, False, site)  # type: ignore[arg-type]
        listening = SharedPort._fromListeningDescriptor(reactor, sock.fileno(), sock.family, factory)
        listening.startListening()
    elif options is None:
        listening = reactor.listenTCP(port, site, interface=listen)
    else:
        listening = reactor.listenSSL(port, site, options, interface=listen)
    actual = listening.getHost().port
    for worker in workers or ():
        reactor.addSystemEventTrigger("before", "shutdown", _stop_worker, worker)
    if on_ready is not None:
        reactor.callWhenRunning(on_ready, actual)
    # A request claimed by a process that died before its certificate was stored goes back to the inbox.
    claims = task.LoopingCall(
        lambda: threads.deferToThread(
            core.documents.release_abandoned_claims, dt.timedelta(seconds=core.config.hub.claim_timeout_seconds)
        ).addErrback(lambda failure: log.error("releasing abandoned claims failed: %s", failure.value))
    )
    claims.clock = reactor
    claims.start(2, now=False).addErrback(lambda failure: log.error("claims timer stopped: %s", failure.value))
    # Signed checkpoints also when traffic is low (audit/: every N records or M minutes).
    checkpoints = task.LoopingCall(lambda: threads.deferToThread(core.register.store.checkpoint, force=False))
    checkpoints.clock = reactor
    checkpoints.start(60, now=False).addErrback(lambda failure: log.error("checkpoint failed: %s", failure.value))
    reactor.addSystemEventTrigger("after", "shutdown", core.close)
    # A request still in a worker thread at shutdown waits for the stopped reactor to write its answer, and
    # the thread pool waits for it: give in-flight work a grace period, then leave (bench/query.py saw hangs).
    reactor.addSystemEventTrigger("before", "shutdown", _exit_after, SHUTDOWN_GRACE_SECONDS)
    main_thread = threading.current_thread() is threading.main_thread()  # signals reach that thread only
    if main_thread:
        _stop_on_signals(reactor)
    # Our handlers, for the whole life of the process: Twisted's printed a `ReactorNotRunning` traceback
    # for a second signal, and once stopped left the default action (killed mid-shutdown, status -15).
    reactor.run(installSignalHandlers=False)
    # Stopped; what is left is closing files. Python's exit would restore the default action (a second
    # Ctrl+C or SIGTERM now would kill the process, status -15); `_exit_after` still bounds the wait.
    for number in (signal.SIGINT, signal.SIGTERM) if main_thread else ():
        signal.signal(number, signal.SIG_IGN)


def _stop_on_signals(reactor: Any) -> None:
    """Ctrl+C or SIGTERM stop the hub; another one while it stops is ignored (the shutdown has a grace
    period of its own, `SHUTDOWN_GRACE_SECONDS`)."""

    def stop() -> None:
        with contextlib.suppress(error.ReactorNotRunning):
            reactor.stop()

    def handler(_signum: int, _frame: Any) -> None:
        reactor.callFromThread(stop)

    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, handler)


SHUTDOWN_GRACE_SECONDS = 10.0


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()


def _exit_after(seconds: float) -> None:
    timer = threading.Timer(seconds, os._exit, args=(0,))
    timer.daemon = True
    timer.start()
