"""A request to an upstream imports nothing: httpcore looks for `sniffio` at every request (to tell
asyncio from trio), and without it installed each request searched sys.path for it again, which
cost a streaming process 9 % of its CPU (py-spy, a replayed NFL game)."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from pressbox.clock import SystemClock
from pressbox.sources.budget import RequestBudget
from pressbox.sources.http import HttpClient
from pressbox.web.server import running


class ImportLog(importlib.abc.MetaPathFinder):
    """Notes every module looked for on sys.path (those not already imported), finds none."""

    def __init__(self) -> None:
        self.looked_for: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        self.looked_for.append(fullname)
        return None


async def answer(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def test_requests_over_loopback_look_for_no_module() -> None:
    app = Starlette(routes=[Route("/v2/doc", answer)])
    clock = SystemClock()
    async with running(app, "127.0.0.1", 0) as base:
        http = HttpClient(base, clock, RequestBudget(clock, rate=1000, burst=100))
        try:
            await http.get("/v2/doc", "plays")  # the first one may import what it needs
            log = ImportLog()
            sys.meta_path.insert(0, log)
            try:
                for _ in range(20):
                    fetched = await http.get("/v2/doc", "plays")
            finally:
                sys.meta_path.remove(log)
        finally:
            await http.aclose()
    assert fetched.body == b'{"ok":true}'
    assert log.looked_for == []
