"""A bare Spyne-on-Twisted echo service: the ceiling of the hub's own stack, for bench/query.py.

The same stack as the hub (Spyne 2.14 `Application` with SOAP 1.1 in and out and lxml validation of the
request, `spyne.server.wsgi.WsgiApplication`, `twisted.web.wsgi.WSGIResource` on the reactor's thread
pool of the same size) and nothing else: one operation, `Echo(Size, Padding)`, that answers with a
string of `Size` ASCII characters. bench/query.py pads the request to the byte size of the hub's query
and picks `Size` so that the whole answer has the byte size of the hub's answer.

Run: `python bench/echo_server.py [--threads 16]`; it listens on 127.0.0.1, port 0 (a free port), and
prints the port on the first line of its standard output. Endpoint: `/soap/echo` (WSDL: `?wsdl`).
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence
from typing import Any

from spyne import Application, Integer, ServiceBase, Unicode, rpc
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication
from twisted.internet import reactor as default_reactor
from twisted.web import resource, server
from twisted.web.wsgi import WSGIResource

ECHO_NS = "urn:pl:platforma-komunikacyjna:bench:echo:1"
MAX_SIZE = 16 * 1024 * 1024
reactor: Any = default_reactor  # Twisted installs the reactor as a module; typed as Any, as in hub/soap/server.py


@functools.lru_cache(maxsize=8)
def payload(size: int) -> str:
    """The answer's payload: `size` ASCII characters (built once per size)."""
    return "x" * max(0, min(size, MAX_SIZE))


class EchoService(ServiceBase):
    """One operation: answer with a payload of the asked size."""

    @rpc(
        Integer(min_occurs=1, nillable=False),
        Unicode,
        _returns=Unicode,
        _operation_name="Echo",
        _in_variable_names={"size": "Size", "padding": "Padding"},
        _out_message_name="EchoResponse",
        _out_variable_name="EchoResult",
    )
    def echo(ctx: Any, size: int, padding: str | None) -> str:
        """A string of `size` characters; `padding` only gives the request its size."""
        return payload(size)


def build_application() -> WsgiApplication:
    """The WSGI application: Spyne SOAP 1.1 in (validated by lxml, like the hub) and out."""
    application = Application(
        [EchoService],
        tns=ECHO_NS,
        name="UslugaEcho",
        in_protocol=Soap11(validator="lxml"),
        out_protocol=Soap11(),
    )
    return WsgiApplication(application)


def build_site(threads: int) -> server.Site:
    """A Twisted site with the echo service at `/soap/echo` under a `WSGIResource`."""
    reactor.suggestThreadPoolSize(threads)
    root: Any = resource.Resource()
    soap: Any = resource.Resource()
    root.putChild(b"soap", soap)
    soap.putChild(b"echo", WSGIResource(reactor, reactor.getThreadPool(), build_application()))
    site = server.Site(root)
    site.displayTracebacks = False
    return site


def main(argv: Sequence[str] | None = None) -> int:
    """Listen on 127.0.0.1 (port 0 unless given), print the port, serve until terminated."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--threads", type=int, default=16, help="WSGI thread pool size (the hub's default: 16)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("spyne.application.client").setLevel(logging.CRITICAL)
    site = build_site(args.threads)
    listening = reactor.listenTCP(args.port, site, interface="127.0.0.1")
    print(listening.getHost().port, flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
