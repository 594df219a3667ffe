"""HTTP caching of the read-only API and pages: ETags, ``Cache-Control``, 304s, and an in-process response cache.

Every response of a GET depends only on the warehouse's content, the URL, the language cookie and whether the
client takes gzip, so its ETag is a hash of those; a request whose ``If-None-Match`` carries it gets 304 without
any work. Successful responses
(up to ``max_entry_bytes``, without ``Set-Cookie``) are kept in a least-recently-used cache keyed the same way, so a
repeated request costs a dictionary lookup; a change of the warehouse changes every key. A HEAD reaches this
middleware as the GET it stands for (:class:`.methods.HeadMiddleware` is outside it and drops the body), so it gets
the same ETag, 304 and cached headers, and the cache never keeps an empty body under a GET's key. A plain ASGI
middleware (not ``BaseHTTPMiddleware``): it adds no task or stream per request.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[Message], Any]
ASGIApp = Callable[[Scope, Receive, Send], Any]

UNCACHED_PREFIXES = ("/static/", "/healthz")
PRIVATE_PREFIXES = ("/api/v1/audit", "/signin", "/upload")  # answers that depend on who asks


@dataclass(frozen=True)
class _Stored:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def _cookie(headers: list[tuple[bytes, bytes]], name: str) -> str:
    for key, value in headers:
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return ""


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((v for k, v in headers if k == name), None)


def _matches(if_none_match: bytes | None, tag: bytes) -> bool:
    """RFC 9110 §13.1.2: ``*``, or a list of entity tags compared weakly (``W/"x"`` matches ``"x"``)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == b"*":
        return True
    return any(part.strip().removeprefix(b"W/") == tag for part in if_none_match.split(b","))


class CachingMiddleware:
    """ETag / 304 / ``Cache-Control`` for GET responses, and the response cache."""

    def __init__(self, app: ASGIApp, *, fingerprint: Callable[[], str], max_age: int = 60,
                 enabled: bool = True, max_entries: int = 2000, max_entry_bytes: int = 4 << 20,
                 max_total_bytes: int = 256 << 20) -> None:
        self.app = app
        self.fingerprint = fingerprint
        self.cache_control = f"public, max-age={max_age}".encode()
        self.enabled = enabled
        self.max_entries = max_entries
        self.max_entry_bytes = max_entry_bytes
        self.max_total_bytes = max_total_bytes
        self._store: OrderedDict[str, _Stored] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _get(self, key: str) -> _Stored | None:
        with self._lock:
            found = self._store.get(key)
            if found is not None:
                self._store.move_to_end(key)
            return found

    def _put(self, key: str, value: _Stored) -> None:
        with self._lock:
            if key in self._store:
                return
            self._store[key] = value
            self._bytes += len(value.body)
            while len(self._store) > self.max_entries or self._bytes > self.max_total_bytes:
                _, old = self._store.popitem(last=False)
                self._bytes -= len(old.body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or path.startswith(UNCACHED_PREFIXES):
            await self.app(scope, receive, send)
            return
        request_headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        if _header(request_headers, b"authorization") is not None or path.startswith(PRIVATE_PREFIXES):
            await self.app(scope, receive, send)  # what an account sees is never cached, nor served to another
            return
        query = scope.get("query_string", b"").decode("latin-1")
        gzip = b"gzip" in (_header(request_headers, b"accept-encoding") or b"")
        key = f"{self.fingerprint()}|{path}?{query}|{_cookie(request_headers, 'lang')}|{'gz' if gzip else ''}"
        tag = b'"' + hashlib.sha256(key.encode()).hexdigest()[:32].encode() + b'"'
        common = [(b"etag", tag), (b"cache-control", self.cache_control)]
        if _matches(_header(request_headers, b"if-none-match"), tag):
            await send({"type": "http.response.start", "status": 304, "headers": common})
            await send({"type": "http.response.body", "body": b""})
            return
        stored = self._get(key) if self.enabled else None
        if stored is not None:
            self.hits += 1
            await send({"type": "http.response.start", "status": stored.status, "headers": stored.headers})
            await send({"type": "http.response.body", "body": stored.body})
            return
        self.misses += 1
        start: Message = {}
        chunks: list[bytes] = []
        size = 0
        cacheable = True

        async def capture(message: Message) -> None:
            nonlocal cacheable, size
            if message["type"] == "http.response.start":
                start.update(message)
                if message["status"] == 200:
                    headers = [(k, v) for k, v in message.get("headers", []) if k not in (b"etag", b"cache-control")]
                    message = {**message, "headers": headers + common}
                    start["headers"] = message["headers"]
                    cacheable = _header(headers, b"set-cookie") is None
                else:
                    cacheable = False
            elif message["type"] == "http.response.body" and cacheable:
                chunks.append(message.get("body", b""))
                size += len(chunks[-1])
                if size > self.max_entry_bytes:
                    cacheable = False
                    chunks.clear()
                if not message.get("more_body", False) and cacheable and self.enabled:
                    self._put(key, _Stored(start["status"], list(start["headers"]), b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)

    def clear(self) -> None:
        with self._lock:
            self._store.clear()
            self._bytes = 0
