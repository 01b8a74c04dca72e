"""The accounts service `/soap/konta`: a user's own password change and logout (guideline 7)."""

from __future__ import annotations

from typing import Any

from spyne import Application, ServiceBase, Unicode, rpc

from hub.core import HubCore
from hub.soap.model.common import named, required
from hub.soap.services.application import caller_of, hub_core, soap_application

ACCOUNTS_NS = "urn:pl:platforma-komunikacyjna:konta:1"
Password = required(named(Unicode(min_len=1, max_len=200, type_name="Haslo"), ACCOUNTS_NS))
Confirmation = named(Unicode(max_len=300, type_name="Potwierdzenie"), ACCOUNTS_NS)


class AccountService(ServiceBase):
    """Usługa kont: zmiana własnego hasła i wylogowanie."""

    # The wsdl:service name published in version 1 (JAX-WS names its generated class after it): kept as it is,
    # whatever the Python class is called; every other name in the WSDL is Polish (docs/contracts.md).
    __service_name__ = "AccountService"

    @rpc(
        Password,
        Password,
        _returns=Confirmation,
        _operation_name="ZmianaHasla",
        _in_variable_names={"old": "StareHaslo", "new": "NoweHaslo"},
        _out_message_name="ZmianaHaslaOdpowiedz",
        _out_variable_name="Potwierdzenie",
    )
    def change_password(ctx: Any, old: str, new: str) -> str:
        """Zmienia hasło zalogowanego użytkownika (wymaga podania dotychczasowego hasła)."""
        core = hub_core(ctx)
        caller = caller_of(ctx)
        core.accounts.change_password(caller.login, old, new, source=caller.source)
        return "Hasło zostało zmienione."

    @rpc(
        _returns=Confirmation,
        _operation_name="Wylogowanie",
        _out_message_name="WylogowanieOdpowiedz",
        _out_variable_name="Potwierdzenie",
    )
    def logout(ctx: Any) -> str:
        """Kończy sesję: zapamiętane poświadczenia są usuwane, a wylogowanie rejestrowane."""
        core = hub_core(ctx)
        core.accounts.logout(caller_of(ctx))
        return "Wylogowano."


def build_application(core: HubCore | None) -> Application:
    """The Spyne application of the accounts service; `core=None` builds it for contract export only."""
    return soap_application([AccountService], tns=ACCOUNTS_NS, name="UslugaKont", core=core)
