"""Hardening of the server (decisions.md D-77, D-78): security headers on every response, pages without inline
script, no traceback in any answer, CORS closed unless configured, and the limit on request bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from cityscore.api import security
from cityscore.api.app import create_app, error_body
from cityscore.api.security import CONTENT_SECURITY_POLICY, BodyLimitMiddleware
from cityscore.settings import Settings

from ..conftest import Demo

KATO = "710000000"
PAGES = ("/", f"/settlements/{KATO}", "/kpis/1.8", "/methodology", "/docs", "/no-such-page",
         f"/fragments/monitor/{KATO}", "/fragments/rankings")
RESPONSES = (*PAGES, "/api/v1/scores", "/api/v1/no-such-route", f"/api/v1/settlements/{KATO}/score?year=1800",
             "/openapi.json", "/healthz", "/static/app.js", "/static/swagger-init.js", "/static/no-such-file.js")
ORIGIN = "https://akimat.example.kz"


def run_async(coroutine: Coroutine[Any, Any, None]) -> None:
    """In a thread of its own: the browser tests' Playwright may keep an event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def make_client(demo: Demo, **settings: Any) -> TestClient:
    app = create_app(demo.db, warm=False, settings=Settings(**settings))
    return TestClient(app, raise_server_exceptions=False)


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("url", RESPONSES)
def test_every_response_carries_the_security_headers(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in development


def test_the_policy_allows_scripts_from_the_server_only() -> None:
    policy = directives(CONTENT_SECURITY_POLICY)
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval', no host
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["style-src"] == ["'self'"]  # <style> elements are refused; only style="" attributes pass
    assert not any(v.startswith(("http:", "https:", "*")) for values in policy.values() for v in values)


class ScriptAudit(HTMLParser):
    """Every <script> of a page and every inline event handler (on…=) or javascript: URL."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self._open: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>: an inline event handler")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>: a javascript: URL")
        if tag == "script":
            self.scripts.append(named)
            self._open = named

    def handle_data(self, data: str) -> None:
        if self._open is not None and data.strip():
            script = self._open
            if script.get("src") or script.get("type") != "application/json":
                self.problems.append(f"an inline script: {data.strip()[:60]!r}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None


@pytest.mark.parametrize("url", PAGES)
def test_pages_hold_no_inline_script_or_event_handler(client: TestClient, url: str) -> None:
    audit = ScriptAudit()
    audit.feed(client.get(url).text)
    assert audit.problems == []
    for script in audit.scripts:  # a file of this server, or data that is never executed
        assert (script.get("src") or "").startswith("/static/") or script.get("type") == "application/json"


def test_htmx_is_told_not_to_insert_a_style_element_nor_to_eval(client: TestClient) -> None:
    page = client.get("/").text
    assert '"includeIndicatorStyles": false' in page and '"allowEval": false' in page


def test_docs_start_swagger_ui_from_a_static_script(client: TestClient) -> None:
    page = client.get("/docs").text
    assert 'data-openapi-url="/openapi.json"' in page
    assert "/static/swagger-init.js?v=" in page
    script = client.get("/static/swagger-init.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))


# --- no traceback in any answer ---------------------------------------------------------------------------------
SECRET_DETAIL = "a detail that must stay in the log: /srv/cityscore/private"


@pytest.fixture(scope="module")
def failing(demo: Demo) -> Iterator[TestClient]:
    """The application with two routes that fail unexpectedly, one of the API and one of the pages."""
    app = create_app(demo.db, warm=False, settings=Settings())

    def boom() -> None:
        raise RuntimeError(SECRET_DETAIL)

    app.add_api_route("/api/v1/test-failure", boom)
    app.add_api_route("/test-failure", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_internal_error_of_the_api_is_the_one_error_shape(failing: TestClient) -> None:
    response = failing.get("/api/v1/test-failure")
    assert response.status_code == 500
    assert response.json() == error_body(500, "Internal error; the server log has the details.")
    assert "Traceback" not in response.text and SECRET_DETAIL not in response.text
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def test_an_internal_error_of_a_page_is_the_error_page(failing: TestClient) -> None:
    response = failing.get("/test-failure")
    assert response.status_code == 500 and response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    assert SECRET_DETAIL not in response.text
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_an_error_page_that_fails_falls_back_to_the_json_shape(failing: TestClient,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import cityscore.web.pages

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the template is broken")

    monkeypatch.setattr(cityscore.web.pages, "render_error", broken)
    response = failing.get("/test-failure")
    assert response.status_code == 500
    assert response.json() == error_body(500, "Internal error; the server log has the details.")
    assert "broken" not in response.text and response.headers["X-Content-Type-Options"] == "nosniff"


# --- CORS -------------------------------------------------------------------------------------------------------
def test_cors_is_closed_by_default(client: TestClient) -> None:
    response = client.get("/api/v1/scores", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/api/v1/scores", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_cors_opens_to_the_configured_origins_only(demo: Demo) -> None:
    with make_client(demo, cors_origins=f"{ORIGIN}, http://localhost:3000/") as client:
        allowed = client.get("/api/v1/scores", headers={"Origin": ORIGIN})
        assert allowed.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "Origin" in allowed.headers["Vary"]
        assert "Access-Control-Allow-Credentials" not in allowed.headers  # never cookies across origins
        assert allowed.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert client.get("/api/v1/scores", headers={"Origin": "http://localhost:3000"}).headers[
            "Access-Control-Allow-Origin"] == "http://localhost:3000"
        other = client.get("/api/v1/scores", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        preflight = client.options("/api/v1/ingest", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Idempotency-Key"})
        assert preflight.status_code == 200
        assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
        assert "idempotency-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
        refused = client.options("/api/v1/scores", headers={"Origin": "https://evil.example",
                                                            "Access-Control-Request-Method": "GET"})
        assert "Access-Control-Allow-Origin" not in refused.headers


# --- the size of request bodies ---------------------------------------------------------------------------------
LIMIT_MB = 0.001  # 1,048 bytes
LIMIT = int(LIMIT_MB * 1024 * 1024)


@pytest.fixture(scope="module")
def limited(demo: Demo) -> Iterator[TestClient]:
    """The application with a tiny body limit and a route that reads the whole body (as an upload does)."""
    app = create_app(demo.db, warm=False, settings=Settings(max_upload_mb=LIMIT_MB))

    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_api_route("/api/v1/test-echo", echo, methods=["POST"])
    app.add_api_route("/test-echo", echo, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_a_body_within_the_limit_is_read(limited: TestClient) -> None:
    response = limited.post("/api/v1/test-echo", content=b"x" * LIMIT)
    assert response.status_code == 200 and response.json() == {"bytes": LIMIT}


def test_a_declared_length_over_the_limit_is_413_in_the_one_shape(limited: TestClient) -> None:
    response = limited.post("/api/v1/test-echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    body = response.json()
    assert body == error_body(413, body["error"]) and "CITYSCORE_MAX_UPLOAD_MB" in body["error"]
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_streamed_body_over_the_limit_is_413(limited: TestClient) -> None:
    chunks = (b"y" * 400 for _ in range(10))  # no Content-Length: sent chunked
    response = limited.post("/api/v1/test-echo", content=chunks)
    assert response.status_code == 413
    assert response.json()["status"] == 413 and response.json()["ok"] is False


def test_a_page_form_over_the_limit_gets_the_error_page(limited: TestClient) -> None:
    response = limited.post("/test-echo", content=b"z" * (LIMIT + 1))
    assert response.status_code == 413 and response.headers["content-type"].startswith("text/html")


def test_the_limit_stops_reading_as_soon_as_it_is_passed() -> None:
    """At the ASGI level: of ten chunks of 400 bytes under a limit of 1,000, only three are ever received, and the
    application's answer is the 413 — the rest of the upload is never read."""
    received: list[int] = []
    sent: list[dict[str, Any]] = []

    async def reader(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        raise AssertionError("the whole body was read")

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"q" * 400, "more_body": len(received) < 10}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    def refuse(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse(error_body(status, message), status_code=status, headers=headers)

    middleware = BodyLimitMiddleware(reader, limit=1000, refuse=refuse)
    scope = {"type": "http", "method": "POST", "path": "/api/v1/ingest", "headers": [], "query_string": b""}
    run_async(middleware(scope, receive, send))
    assert len(received) == 3
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


def test_a_content_length_that_is_not_a_number_is_400() -> None:
    sent: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("not reached")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def refuse(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse(error_body(status, message), status_code=status, headers=headers)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [(b"content-length", b"lots")],
             "query_string": b""}
    run_async(BodyLimitMiddleware(app, limit=10, refuse=refuse)(scope, receive, send))
    assert sent[0]["status"] == 400


# --- HTTPS ------------------------------------------------------------------------------------------------------
def test_hsts_when_served_over_https(demo: Demo) -> None:
    with make_client(demo, https=True) as client:
        assert client.get("/").headers["Strict-Transport-Security"] == security.HSTS
    with make_client(demo) as client:
        assert client.get("https://testserver/api/v1/scores").headers["Strict-Transport-Security"] == security.HSTS


def test_the_app_keeps_its_settings(demo: Demo) -> None:
    app: FastAPI = create_app(demo.db, warm=False, settings=Settings(max_upload_mb=5))
    assert app.state.settings.max_upload_bytes == 5 * 1024 * 1024
