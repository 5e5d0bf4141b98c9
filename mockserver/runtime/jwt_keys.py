"""The mock's own token issuer: an RSA key made once per process on first use (never exported
or saved: tokens do not outlive the process), tokens minted with it (``POST /_mock/jwt``), its
public half as a JWKS, and verification. All crypto is PyJWT's (and ``cryptography``'s)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ALGORITHM = "RS256"
DEFAULT_ISSUER = "runagents-mock"


@lru_cache(maxsize=1)
def _process_key() -> rsa.RSAPrivateKey:
    # Made on first use (most mocks never mint a token) and shared by the apps of a process:
    # a 2048-bit key costs ~0.1 s, too much for every test's app.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class TokenIssuer:
    kid = "runagents-mock-1"

    @property
    def key(self) -> rsa.RSAPrivateKey:
        return _process_key()

    def mint(self, claims: Mapping[str, Any]) -> str:
        return jwt.encode(dict(claims), self.key, algorithm=ALGORITHM, headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def verify(
        self, token: str, now: float, issuer: str | None = None, audiences: list[str] | None = None
    ) -> dict[str, Any]:
        """The claims of a token this mock signed; ValueError naming the problem otherwise.

        Expiry is checked against the mock's clock (``now``), not the machine's."""
        try:
            claims = jwt.decode(
                token,
                self.key.public_key(),
                algorithms=[ALGORITHM],
                audience=audiences or None,
                issuer=issuer or None,
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": bool(audiences),
                    "verify_iss": bool(issuer),
                },
            )
        except jwt.InvalidAudienceError:
            raise ValueError("token audience is not accepted") from None
        except jwt.InvalidIssuerError:
            raise ValueError("token issuer is not accepted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise ValueError(f"token has no {exc.claim} claim") from None
        except jwt.InvalidTokenError:
            raise ValueError("token signature or format is invalid") from None
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or isinstance(exp, bool):
            raise ValueError("token has no exp claim")
        if exp <= now:
            raise ValueError("token has expired")
        nbf = claims.get("nbf")
        if isinstance(nbf, (int, float)) and nbf > now:
            raise ValueError("token is not valid yet")
        return claims
