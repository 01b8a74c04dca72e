"""The hub's start page in a real Chromium: Polish, lists every SOAP service, and its WSDL links work."""

from __future__ import annotations

from typing import Any

from hub.soap.services import SERVICES
from tests.integration.conftest import RunningHub


def test_start_page_lists_the_services_and_their_wsdls_open(browser: Any, hub: RunningHub) -> None:
    base = hub.endpoint.rsplit("/soap/", 1)[0]
    page = browser.new_page()
    try:
        response = page.goto(base + "/")
        assert response is not None and response.status == 200
        assert page.locator("html").get_attribute("lang") == "pl"
        assert page.locator("h1").inner_text() == "Platforma komunikacyjna"
        links = page.locator("a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert hrefs == [f"/soap/{s.path}?wsdl" for s in SERVICES]
        page.locator(f'a[href="/soap/{SERVICES[0].path}?wsdl"]').click()
        page.wait_for_load_state()
        assert "wsdl:definitions" in page.content() or "definitions" in page.content()
    finally:
        page.close()
