"""The frame of a FastAPI service: its runtime started and stopped with the app, and reached
by endpoints as a dependency."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from fastapi import FastAPI, Request


class ServiceRuntime(Protocol):
    """What a service holds while it runs (pool, caches, background tasks)."""

    async def stop(self) -> None: ...


R = TypeVar("R", bound=ServiceRuntime)


def service_app(title: str, start: Callable[[], Awaitable[R]], *, production: bool,
                description: str = "") -> FastAPI:
    """The app of a service whose runtime ``start`` builds at start-up; the runtime stays on
    ``app.state.runtime`` until it is stopped at shutdown. Production serves no API docs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = await start()
        try:
            yield
        finally:
            await app.state.runtime.stop()

    return FastAPI(
        title=title,
        version="1",
        description=description,
        lifespan=lifespan,
        docs_url=None if production else "/docs",
        redoc_url=None,
        openapi_url=None if production else "/openapi.json",
    )


# Dependencies are coroutines even when they do no I/O: FastAPI runs plain functions in its
# thread pool, a thread hop per dependency per request, and the rate limiters they touch
# belong to the event loop's thread.
async def get_runtime(request: Request) -> Any:
    """The runtime ``service_app`` keeps; a service types it in its own ``Annotated`` alias."""
    return request.app.state.runtime
