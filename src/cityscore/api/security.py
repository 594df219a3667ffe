"""Hardening of the server, as plain ASGI middleware: security headers on every response, a limit on the size of
request bodies, and CORS closed unless origins are configured (decisions.md D-77, D-78).

- :class:`SecurityHeadersMiddleware` adds the Content-Security-Policy (scripts only from the server itself: no
  inline script, no inline event handler, no ``eval``), ``X-Content-Type-Options``, ``Referrer-Policy``,
  ``X-Frame-Options``, ``Permissions-Policy`` and ``Cross-Origin-Opener-Policy`` to every response — pages, the
  API, static files and errors alike (the 500 answer, made outside every middleware, gets them from
  :func:`apply_security_headers`); ``Strict-Transport-Security`` when the service is reached over HTTPS.
- :class:`BodyLimitMiddleware` refuses a body larger than ``CITYSCORE_MAX_UPLOAD_MB`` with 413 in the one error
  shape: at once when ``Content-Length`` says so, else as soon as the streamed bytes pass the limit, so a large
  upload is never read in full. The write endpoints rely on it.
- :func:`install` puts them, and Starlette's ``CORSMiddleware`` when ``CITYSCORE_CORS_ORIGINS`` lists origins,
  outside the application's other middleware.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings

# What the pages need, and nothing more: every script and style sheet is a file of /static (vendored htmx, ECharts,
# Swagger UI and our own app.js / swagger-init.js); charts read their data from <script type="application/json">,
# which is never executed. ECharts' tooltips and the score bars set style="" attributes, hence style-src-attr;
# <style> elements stay forbidden. Images: our files and the data: URIs of Swagger UI's icons.
CSP_DIRECTIVES = (
    ("default-src", "'none'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("style-src-attr", "'unsafe-inline'"),
    ("img-src", "'self' data:"),
    ("font-src", "'self'"),
    ("connect-src", "'self'"),
    ("manifest-src", "'self'"),
    ("form-action", "'self'"),
    ("base-uri", "'none'"),
    ("object-src", "'none'"),
    ("frame-ancestors", "'none'"),
)
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CSP_DIRECTIVES)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "magnetometer", "microphone",
    "midi", "payment", "usb"))
HSTS = "max-age=31536000"
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
# what a browser page of an allowed origin may send and read (CITYSCORE_CORS_ORIGINS); never cookies
CORS_METHODS = ("GET", "HEAD", "POST", "DELETE")
CORS_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "Accept-Language")
CORS_EXPOSED = ("ETag", "Retry-After", "Content-Disposition", "Content-Language")
CORS_MAX_AGE = 600

ErrorResponder = Callable[..., Response]
log = logging.getLogger("cityscore.api")
_announced = False


def announce_generated_secret(settings: Settings) -> None:
    """Say once per process, in the log, that sessions are signed with this process's random key."""
    global _announced
    if settings.secret_generated and not _announced:
        _announced = True
        log.warning("CITYSCORE_SECRET_KEY is not set: sessions are signed with a random key of this process "
                    "(development); they end when the server stops. Set it, and CITYSCORE_ENV=production, on a "
                    "server that others use.")


def security_headers(*, https: bool) -> list[tuple[str, str]]:
    return [*SECURITY_HEADERS, *([("Strict-Transport-Security", HSTS)] if https else [])]


def served_over_https(scope: Scope, settings: Settings) -> bool:
    return settings.https or scope.get("scheme") in ("https", "wss")


def cookie_secure(request: Request, settings: Settings) -> bool:
    """Whether a cookie set in answer to ``request`` gets ``Secure``: in production, with CITYSCORE_HTTPS, or when
    the request arrived over HTTPS (uvicorn believes ``X-Forwarded-Proto`` from a trusted proxy)."""
    return settings.secure_cookies or request.url.scheme == "https"


def apply_security_headers(response: Response, request: Request, settings: Settings) -> Response:
    """The security headers on a response made outside the middleware (the 500 answer); keeps ones already set."""
    for name, value in security_headers(https=served_over_https(request.scope, settings)):
        response.headers.setdefault(name, value)
    return response


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` (and HSTS over HTTPS) to every HTTP response; a header the route set itself
    is kept."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(https=served_over_https(scope, self.settings))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def size_text(n: int) -> str:
    mib = n / (1024 * 1024)
    return f"{mib:.0f} MB" if mib >= 10 else f"{mib:.1f} MB" if mib >= 0.1 else f"{n} bytes"


class BodyTooLargeError(HTTPException):
    """The request body passed the limit while it was being read (an HTTP error, so whatever reads the body —
    FastAPI's form parsing, a route reading the stream — lets it through to the one error shape)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


def too_large_message(limit: int, size: int | None = None) -> str:
    said = f" ({size_text(size)})" if size is not None else ""
    return (f"The request body{said} is larger than the limit of {size_text(limit)} (CITYSCORE_MAX_UPLOAD_MB); "
            "split the file into smaller ones, or ask the operator to raise the limit.")


class BodyLimitMiddleware:
    """Refuses a request body larger than ``limit`` bytes with 413, answered by ``refuse(request, status,
    message)`` (the application's one error shape): before reading anything when ``Content-Length`` is larger,
    else as soon as the bytes received pass the limit (a chunked upload)."""

    def __init__(self, app: ASGIApp, *, limit: int, refuse: ErrorResponder) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = self._content_length(scope)
        if length is not None and length < 0:
            await self._answer(scope, receive, send, 400, "The Content-Length header is not a number of bytes.")
            return
        if length is not None and length > self.limit:
            await self._answer(scope, receive, send, 413, too_large_message(self.limit, length))
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, watching_send)
        except BodyTooLargeError as exc:  # read outside any handler (e.g. by a middleware): answer it here
            if not started:
                await self._answer(scope, receive, send, 413, str(exc.detail))

    @staticmethod
    def _content_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return -1
        return None

    async def _answer(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        response = self.refuse(Request(scope), status, message, headers={"Connection": "close"})
        await response(scope, receive, send)


def install(app: FastAPI, settings: Settings, refuse: ErrorResponder) -> None:
    """Add the hardening middleware outside what is already there: in a request's path, security headers first,
    then CORS (only with configured origins), then the body limit — so a 413 carries both."""
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes, refuse=refuse)
    if settings.cors_origins:
        options: dict[str, Any] = {"allow_origins": list(settings.cors_origins), "allow_credentials": False,
                                   "allow_methods": list(CORS_METHODS), "allow_headers": list(CORS_HEADERS),
                                   "expose_headers": list(CORS_EXPOSED), "max_age": CORS_MAX_AGE}
        app.add_middleware(CORSMiddleware, **options)
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
