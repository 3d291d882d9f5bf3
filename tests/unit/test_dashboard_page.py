"""`GET /` serves the dashboard and `/static/...` its pinned files: everything the page
loads comes from the API itself (no CDN, nothing to build), under a policy that allows
nothing else. The page's behaviour is tested in a browser (tests/browser)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from api.dashboard import STATIC_DIR
from api.services import ApiServices
from db.memory import InMemoryEventStore
from tests.support.api_keys import in_memory_admin


@pytest.fixture
def client() -> Iterator[TestClient[Litestar]]:
    keys, _ = in_memory_admin()  # the page needs no key: it asks for one itself
    with TestClient(create_app(ApiServices(store=InMemoryEventStore(), keys=keys))) as test_client:
        yield test_client


def test_the_page_is_html_with_a_policy_that_allows_only_this_origin(
    client: TestClient[Litestar],
) -> None:
    reply = client.get("/")
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert '<form id="order-form"' in reply.text


def test_every_asset_the_page_names_is_served_from_here(client: TestClient[Litestar]) -> None:
    page = client.get("/").text
    assets = re.findall(r'(?:src|href)="([^"#]+)"', page)
    assert "/static/js/main.js" in assets
    assert not [url for url in assets if "//" in url and not url.startswith("data:")]
    for url in assets:
        if url.startswith("data:"):
            continue
        reply = client.get(url)
        assert reply.status_code == 200, url
        assert reply.content == (STATIC_DIR / url.removeprefix("/static/")).read_bytes()


def test_every_module_the_scripts_import_exists() -> None:
    for module in (STATIC_DIR / "js").glob("*.js"):
        for name in re.findall(r'from "\./([\w-]+\.js)"', module.read_text()):
            assert (STATIC_DIR / "js" / name).is_file(), f"{module.name} imports {name}"


def test_the_charting_library_is_vendored_with_its_licence() -> None:
    vendored = STATIC_DIR / "vendor" / "uplot-1.6.32"
    assert "MIT License" in (vendored / "LICENSE").read_text()
    assert "uplot@1.6.32" in (vendored / "VENDORED.md").read_text()


def test_the_page_is_in_the_openapi_document_and_the_assets_are_not(
    client: TestClient[Litestar],
) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert paths["/"]["get"]["operationId"] == "dashboard"
    assert not [path for path in paths if path.startswith("/static")]
