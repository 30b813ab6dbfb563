"""Driving the web app in tests: a signed-in browser-like client per teammate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from litestar.testing import TestClient

from engine.composition import Runtime
from engine.core.clock import FrozenClock
from tests.inbox.seed import PASSWORD, World

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


@dataclass
class Web:
    client: TestClient[Any]
    world: World
    runtime: Runtime
    clock: FrozenClock

    def csrf(self) -> str:
        token = self.client.cookies.get("kazi_csrf")
        if token is None:
            page = self.client.get("/login")
            match = CSRF_INPUT.search(page.text)
            assert match, "the sign-in page carries a CSRF token"
            token = match.group(1)
        return token

    def sign_in(self, handle: str, password: str = PASSWORD) -> httpx.Response:
        self.client.get("/login")
        return self.client.post(
            "/login",
            data={
                "workspace": self.world.slug,
                "login": handle,
                "password": password,
                "_csrf_token": self.csrf(),
            },
            follow_redirects=False,
        )

    def post(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> httpx.Response:
        headers = {"X-CSRFToken": self.csrf(), **kw.pop("headers", {})}
        return self.client.post(
            path, data=data or {}, headers=headers, follow_redirects=False, **kw
        )
