"""The headers every docintake HTTP response carries, and CORS only where origins are configured."""

import base64
import hashlib
import re
from collections.abc import Iterable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What a JSON answer needs: nothing loaded, never framed. A page sets a policy of its own (see page_policy).
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
# FastAPI's interactive API pages load their scripts from a CDN; they keep their own policy.
API_PAGES = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with_policy = not str(scope.get("path", "")).startswith(API_PAGES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() not in {header for header, _ in SECURITY_HEADERS}]
                headers += SECURITY_HEADERS
                if with_policy and not any(name.lower() == b"content-security-policy" for name, _ in headers):
                    headers.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def page_policy(html: str) -> str:
    """The policy of a page whose script and style are inline: those exact ones run, nothing else,
    and only its own origin is called."""
    def allowed(kind: str) -> str:
        bodies = re.findall(rf"<{kind}>(.*?)</{kind}>", html, re.DOTALL)
        digests = [base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() for body in bodies]
        return " ".join(f"'sha256-{digest}'" for digest in digests) or "'none'"

    return (f"default-src 'none'; script-src {allowed('script')}; style-src {allowed('style')}; "
            "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def install_security_headers(app: FastAPI, cors_origins: Iterable[str] = ()) -> None:
    """Security headers on every response; CORS is off unless origins are configured."""
    origins = [origin for origin in cors_origins if origin]
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["X-API-Key", "Idempotency-Key", "Content-Type"])
    app.add_middleware(SecurityHeaders)
