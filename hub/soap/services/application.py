"""The one way a hub SOAP service becomes a Spyne application: our protocol, our faults, our authentication."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from spyne import Application

from contract.errors import PlatformError
from hub.soap.model.fault import Blad
from hub.soap.services import faults
from hub.soap.services.protocol import HubSoap11
from hub.soap.services.security import UNDERSTOOD_HEADERS, authenticate_listener

if TYPE_CHECKING:
    from hub.core import HubCore
    from hub.domain.policy import Caller

log = logging.getLogger(__name__)


def hub_core(ctx: Any) -> HubCore:
    """The hub core an operation runs against (`soap_application(core=...)`)."""
    core: HubCore = ctx.app.hub
    return core


def caller_of(ctx: Any) -> Caller:
    """Who calls the operation, as the `method_call` listener identified them."""
    caller: Caller = ctx.udc["caller"]
    return caller


class HubApplication(Application):
    """Spyne application whose user-code errors become our faults, never a traceback."""

    def call_wrapper(self, ctx: Any) -> Any:
        request_id = (ctx.udc or {}).get("request_id")
        try:
            return super().call_wrapper(ctx)
        except PlatformError as error:
            raise faults.to_fault(error, request_id) from None
        except faults.HubFault:
            raise
        except Exception:
            log.exception("request %s failed", request_id)
            raise faults.internal_fault(request_id) from None


def soap_application(
    services: Sequence[type],
    *,
    tns: str,
    name: str,
    core: HubCore | None,
    raw_requests: Iterable[str] = (),
    identify: Callable[[Any], None] = authenticate_listener,
    types: Sequence[type] = (),
) -> HubApplication:
    """A SOAP 1.1 application of the hub: hardened parser, the envelope rules (one request, no mandatory
    header left unprocessed), schema-validated requests, Polish faults, and the caller identified before any
    operation runs. `core=None` builds it for contract export only; `types` are published in the contract
    although no operation names them."""
    application = HubApplication(
        list(services),
        tns=tns,
        name=name,
        in_protocol=HubSoap11(
            validator="lxml", raw_requests=frozenset(raw_requests), understood_headers=UNDERSTOOD_HEADERS
        ),
        out_protocol=HubSoap11(),
        classes=(Blad, *types),  # Blad: every operation's wsdl:fault (hub.soap.contracts declares it)
    )
    application.hub = core
    application.event_manager.add_listener("method_call", identify)
    return application
