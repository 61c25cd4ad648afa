"""The server's edge, ahead of routing and authentication (a pure ASGI middleware).

- ``Host`` must name this server (loopback by default, plus the bound address and the hosts of
  ``--allow-origin``), so a DNS-rebound page cannot reach it under another name.
- ``Origin``, when a browser sends one (every WebSocket handshake, every cross-site request), must be
  this server's own origin or one given with ``--allow-origin``.
- A request body is limited before anyone looks at the token: ``Content-Length`` above the limit is
  refused at once, and a streamed body is counted as it arrives and refused at the limit.
- A JSON body is parsed strictly (depth limit, finite numbers only); a bad one is a 422 JSON error.
- Every response carries a CSP and the usual security headers; an internal error is a JSON 500 that
  names no internals (the traceback goes to the server log only).
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from simulator.limits import LIMITS, LimitError, parse_json

log = logging.getLogger("callosum.server")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
                               "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "xr-spatial-tracking=(self), camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or URL netloc, lowercased, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normal_origin(origin: str) -> str:
    """``scheme://host[:port]`` lowercased, or '' when `origin` is not an http(s) origin."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return ""
    return f"{parts.scheme}://{parts.netloc.lower()}"


class EdgeGuard:
    """ASGI middleware enforcing the rules in this module's docstring."""

    def __init__(self, app, *, allow_origins: Iterable[str] = (), bind_host: str | None = None,
                 max_body: int = LIMITS.max_request_bytes):
        self.app = app
        self.origins = {o for o in (normal_origin(x) for x in allow_origins) if o}
        self.hosts = {host_name(urlsplit(o).netloc) for o in self.origins}
        if bind_host and bind_host not in ("0.0.0.0", "::", ""):
            self.hosts.add(host_name(bind_host))
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            if scope["type"] == "websocket":
                return await send({"type": "websocket.close", "code": 1008, "reason": refusal[1][:100]})
            return await _json(send, 403 if refusal[0] != "bad_host" else 400, *refusal)
        if scope["type"] == "websocket":
            return await self.app(scope, receive, send)
        if scope["method"] in _BODY_METHODS:
            body = await self._read_body(headers, receive, send)
            if body is None:
                return
            receive = _replay(body, receive)
        await self._run(scope, receive, _with_headers(send))

    def _refusal(self, scope, headers) -> tuple[str, str, str, str] | None:
        host = headers.get("host", "")
        name = host_name(host)
        if not (is_loopback(name) or name in self.hosts):
            return ("bad_host", f"Host {host[:80]!r} is not this server's name; connect to 127.0.0.1 or localhost, "
                    "or start the server with --allow-origin for the name you use", "Host", host[:80])
        origin = headers.get("origin")
        if origin is None:
            return None
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        own = f"{scheme}://{host.lower()}"
        if normal_origin(origin) in (own, *self.origins) and normal_origin(origin):
            return None
        return ("bad_origin", f"Origin {origin[:80]!r} may not use this server; open the page the server serves, "
                "or start it with --allow-origin ORIGIN", "Origin", origin[:80])

    async def _read_body(self, headers, receive, send) -> bytes | None:
        """The whole body, or None after answering 413/400/422 (nothing past the limit is read)."""
        declared = headers.get("content-length")
        if declared is not None:
            if not declared.isdigit() or len(declared) > 18:
                await _json(send, 400, "bad_request", "Content-Length is not a number", "Content-Length", declared[:40])
                return None
            if int(declared) > self.max_body:
                await _too_large(send, int(declared), self.max_body)
                return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _too_large(send, size, self.max_body)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and "json" in headers.get("content-type", "json"):
            try:
                parse_json(body)
            except (LimitError, ValueError, RecursionError) as exc:
                await _json(send, 422, "bad_json", f"the body is not acceptable JSON: {str(exc)[:200]}; send one "
                            "JSON object with finite numbers (see /openapi.json)", "body", None)
                return None
        return body

    async def _run(self, scope, receive, send) -> None:
        started = False

        async def tracked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("internal error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _json(send, 500, "server_error", "the server failed on this request; it was logged. Try "
                            "again, and report it if it keeps happening")


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _with_headers(send):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            have = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in have]
            message = {**message, "headers": list(message.get("headers", [])) + extra}
        await send(message)

    return wrapped


async def _too_large(send, size: int, limit: int) -> None:
    await _json(send, 413, "too_large", f"the request body is {size} bytes or more; the limit is {limit} bytes",
                "body", size)


async def _json(send, status: int, code: str, message: str, field=None, value=None) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": field, "value": value}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
