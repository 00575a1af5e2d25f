"""Authorisation of admin routes.

API Gateway's JWT authorizer has already checked the token's signature, issuer, audience and
expiry (401 otherwise); here we check the caller is in the admin group (403 otherwise).

Groups are matched exactly, one by one. An HTTP API hands every claim to the function as a
string, and an array claim as its elements joined by spaces in brackets ("[a b]"), which cannot
tell the group "Friends of chorus-admins" from three groups. So the groups claim is read from
the token itself: the bearer token the authorizer validated is in the request's Authorization
header, and its payload is decoded as JSON (not verified again: API Gateway did; never logged).
To be sure it is that token, its registered claims must equal the ones the authorizer passed.

A string claim is one group name, unless the operator names the delimiter the issuer uses
(GroupsClaimDelimiter), and then it is split on exactly that.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chorus.errors import NotAllowed, NotAuthenticated

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

# Claims that identify one token; those the authorizer passed must match the decoded payload.
_IDENTIFYING = ("iss", "sub", "exp", "iat", "jti", "client_id", "token_use")


def groups_from_claim(value: Any, delimiter: str = "") -> frozenset[str]:
    """The caller's groups, exactly as the issuer wrote them."""
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    if isinstance(value, str):
        if not delimiter:
            return frozenset({value})
        return frozenset(part.strip() for part in value.split(delimiter) if part.strip())
    return frozenset()


def token_payload(authorization: str | None) -> dict[str, Any]:
    """The claims of the bearer token, decoded only (API Gateway verified it)."""
    token = (authorization or "").strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise NotAuthenticated("a valid bearer token is required")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise NotAuthenticated("a valid bearer token is required") from None
    if not isinstance(payload, dict):
        raise NotAuthenticated("a valid bearer token is required")
    return payload


def _rendered(value: Any) -> str | None:
    """A scalar claim as API Gateway passes it to the function; None for other shapes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value)
    return None


def _is_the_validated_token(payload: Mapping[str, Any], validated: Mapping[str, Any]) -> bool:
    if "exp" not in validated:
        return False
    return all(_rendered(payload.get(name)) == str(validated[name]) for name in _IDENTIFYING if name in validated)


def is_admin(claims: Mapping[str, Any], admin_group: str, groups_claim: str, delimiter: str = "") -> bool:
    """The one rule for the admin API and the console: ``admin_group`` among the token's groups."""
    return admin_group in groups_from_claim(claims.get(groups_claim), delimiter)


def require_admin(
    admin_group: str, groups_claim: str, delimiter: str = ""
) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[str]]:
    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        authorizer = app.current_event.request_context.authorizer
        claims = authorizer.jwt_claim if authorizer else None
        if not claims:
            raise NotAuthenticated("a valid bearer token is required")
        payload = token_payload(app.current_event.headers.get("authorization"))
        if not _is_the_validated_token(payload, claims):
            raise NotAuthenticated("the bearer token is not the one the authorizer checked")
        if not is_admin(payload, admin_group, groups_claim, delimiter):
            raise NotAllowed(f"only members of the '{admin_group}' group may use the admin API")
        app.append_context(admin_subject=str(claims.get("sub", "")))
        return next_middleware(app)

    return middleware
