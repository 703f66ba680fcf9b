"""FastAPI dependencies of the ingest service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tally06.org import OrgRegistry
from tally06.tokens import DeviceToken
from tally06_ingest.exceptions import EnvelopeError
from tally06_ingest.runtime import IngestRuntime
from tally06_ingest.settings import IngestSettings

_bearer = HTTPBearer(auto_error=False, description="Device token issued by `tally06 token issue`")


def get_runtime(request: Request) -> IngestRuntime:
    return request.app.state.runtime


Runtime = Annotated[IngestRuntime, Depends(get_runtime)]


def get_settings(runtime: Runtime) -> IngestSettings:
    return runtime.settings


def get_registry(runtime: Runtime) -> OrgRegistry:
    return runtime.registry


async def current_device(
    runtime: Runtime,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceToken:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise EnvelopeError(401, "authorization", "a device token is required (Bearer)")
    device = await runtime.tokens.device(credentials.credentials)
    if device is None:
        raise EnvelopeError(401, "authorization", "the token is unknown or revoked")
    return device


Settings = Annotated[IngestSettings, Depends(get_settings)]
Registry = Annotated[OrgRegistry, Depends(get_registry)]
CurrentDevice = Annotated[DeviceToken, Depends(current_device)]
