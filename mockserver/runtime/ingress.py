"""Ingress: a client's JWT becomes ``X-End-User-ID``; the token itself never reaches the agent.

The agent's identity provider (the ``platform.ai/identity-provider`` label set by deploy) says
which issuer and audiences are accepted, which claim names the user and which client origins
may call. Tokens are verified against the mock's own key (``POST /_mock/jwt`` mints them):
the provider's ``jwksUri`` is not fetched, the mock never touches the network.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..basics.errors import ApiError
from ..services.agents.models import IDP_LABEL
from ..spec.security import bearer_key

if TYPE_CHECKING:
    from ..services.platform import Platform
    from .jwt_keys import TokenIssuer


def end_user(
    platform: Platform, tokens: TokenIssuer, agent: Mapping[str, Any], authorization: str, origin: str | None
) -> str:
    """The verified user of an ingress request; 401 (bad token) or 403 (origin) otherwise."""
    idp_name = (agent.get("labels") or {}).get(IDP_LABEL)
    spec: Mapping[str, Any] = {}
    if idp_name:
        idp = platform.identity.items.get(idp_name)
        if idp is None:
            raise ApiError(401, f'identity provider "{idp_name}" of agent {agent["name"]} not found')
        spec = idp["spec"]
    token = bearer_key(authorization)
    if not token:
        raise ApiError(401, "missing bearer token: send Authorization: Bearer <jwt>")
    provider = spec.get("identityProvider") or {}
    try:
        claims = tokens.verify(token, platform.clock.now(), provider.get("issuer"), provider.get("audiences"))
    except ValueError as exc:
        raise ApiError(401, str(exc)) from None
    claim = spec.get("userIDClaim") or "sub"
    user = claims.get(claim)
    if not isinstance(user, str) or not user:
        raise ApiError(401, f"token has no {claim} claim")
    allowed = spec.get("allowedDomains") or []
    if allowed and origin:
        host = urlsplit(origin).hostname or ""
        if not any(fnmatch.fnmatchcase(host, pattern) for pattern in allowed):
            raise ApiError(403, f"origin {host} is not an allowed domain")
    return user
