"""Swagger UI and ReDoc in headless Chromium (Debian's, driven by Playwright), served by the
real gunicorn: every operation of the schema is rendered and no request goes to another
host (fonts, logos, CDNs). bench/swagger.py times the same loads; nothing is timed here."""

import pytest

from bench import swagger

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def docs_server(tools, work_dir):
    work = work_dir / "docs"
    work.mkdir()
    with swagger.served(swagger.ROOT, work, workers=1) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    opened = swagger.Browser()
    yield opened
    opened.close()


def test_swagger_ui_renders_every_operation_with_no_request_elsewhere(docs_server, browser):
    keys, _ids = swagger.operations(docs_server)
    assert len(keys) >= 50
    with browser.profile() as context:
        for _ in range(2):  # a first load, then one from the browser's cache (a 304 for the schema)
            loaded = swagger.load(context, f"{docs_server}/api/docs/", swagger.SWAGGER_DONE, keys, timeout_s=20)
            assert loaded["external"] == []
            assert loaded["failed"] == []
            assert loaded["errors"] == []


def test_redoc_renders_every_operation_with_no_request_elsewhere(docs_server, browser):
    _keys, ids = swagger.operations(docs_server)
    with browser.profile() as context:
        loaded = swagger.load(context, f"{docs_server}/api/redoc/", swagger.REDOC_DONE, ids, timeout_s=20)
    assert loaded["external"] == []
    assert loaded["failed"] == []
    assert loaded["errors"] == []
