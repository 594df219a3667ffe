"""HEAD and 405: every GET route (API, pages, static files) also answers HEAD; other methods get 405 and ``Allow``.

A HEAD is answered as the GET it stands for, without the body: the same status and the same headers
(``Content-Length`` and ``Content-Encoding`` included, as RFC 9110 §9.3.2 asks). :class:`HeadMiddleware` is the
outermost middleware, so the response cache, ETag / 304 and gzip all see the GET (a HEAD with a matching
``If-None-Match`` gets 304; a HEAD is served from the cache and fills it). The application is read-only: a method
other than GET and HEAD gets 405 with ``Allow: GET, HEAD``. A plain ASGI middleware, like :mod:`.caching`.
"""

from __future__ import annotations

from .caching import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = ("GET", "HEAD")


def allow(listed: str | None = None) -> str:
    """The ``Allow`` header of a 405: the methods a route lists (all of :data:`READ_METHODS` when it lists none),
    with HEAD wherever GET is allowed."""
    methods = {m.strip().upper() for m in (listed or "").split(",") if m.strip()} or set(READ_METHODS)
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


class HeadMiddleware:
    """Answers HEAD by running GET and dropping the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, without_body)
