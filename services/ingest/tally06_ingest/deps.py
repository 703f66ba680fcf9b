"""FastAPI dependencies of the ingest service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tally06.domain.org_maps import OrgMap
from tally06.kit.fastapi_app import get_runtime
from tally06.kit.rate_limit import address_key
from tally06.store.device_tokens import DeviceToken
from tally06_ingest.exceptions import EnvelopeError
from tally06_ingest.runtime import IngestRuntime
from tally06_ingest.settings import IngestSettings

_bearer = HTTPBearer(auto_error=False, description="Device token issued by `tally06 token issue`")
Runtime = Annotated[IngestRuntime, Depends(get_runtime)]


# Coroutines even without I/O, for the reason given at tally06.kit.fastapi_app.get_runtime.
async def get_settings(runtime: Runtime) -> IngestSettings:
    return runtime.settings


async def get_registry(runtime: Runtime) -> OrgMap:
    return runtime.registry


async def current_device(
    request: Request,
    runtime: Runtime,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> DeviceToken:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise EnvelopeError(401, "authorization", "a device token is required (Bearer)")
    token = credentials.credentials
    # Only a token that needs a database look-up is subject to the address's budget: devices
    # whose token is cached keep posting from an address someone is guessing tokens from.
    looked_up = not runtime.tokens.knows(token)
    address = address_key(request.client.host if request.client else None)
    if looked_up:
        runtime.limits.admit_lookup(address)
    device = await runtime.tokens.device(token)
    if device is None:
        if looked_up:
            runtime.limits.lookup_failed(address)
        raise EnvelopeError(401, "authorization", "the token is unknown or revoked")
    return device


async def admitted_device(device: Annotated[DeviceToken, Depends(current_device)],
                          runtime: Runtime) -> DeviceToken:
    """The authenticated device, once its token's post budget allowed this post (checked before
    the body is read, so a refused post costs almost nothing)."""
    runtime.limits.admit_request(device.id)
    return device


Settings = Annotated[IngestSettings, Depends(get_settings)]
Registry = Annotated[OrgMap, Depends(get_registry)]
CurrentDevice = Annotated[DeviceToken, Depends(current_device)]
AdmittedDevice = Annotated[DeviceToken, Depends(admitted_device)]
