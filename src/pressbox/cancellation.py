"""Work that must finish once started, even when its caller is cancelled."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


async def finish(work: Awaitable[R]) -> R:
    """Await `work` to its end even if the caller is cancelled meanwhile; then re-raise the
    cancellation. For short critical sections: a cancelled caller waits for them."""
    task = asyncio.ensure_future(work)
    cancelled: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError as exc:
            if task.done():
                raise
            cancelled = exc
        else:
            break
    if cancelled is not None:
        raise cancelled
    return result


def finishing(
    function: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Decorate a coroutine function so that each call runs to its end (see `finish`)."""

    @functools.wraps(function)
    async def finished(*args: P.args, **kwargs: P.kwargs) -> R:
        return await finish(function(*args, **kwargs))

    return finished
