"""Authorisation of admin routes.

API Gateway's JWT authorizer has already checked the token's signature, issuer, audience
and expiry (401 otherwise); here we check the caller is in the admin group (403 otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chorus.errors import NotAllowed, NotAuthenticated

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware


def groups_from_claim(value: Any) -> set[str]:
    """API Gateway renders array claims as '[a b]'; other issuers send a list or one name."""
    if value is None:
        return set()
    if isinstance(value, list):
        return {str(item) for item in value}
    text = str(value).strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return {part.strip().strip('"') for part in text.replace(",", " ").split() if part.strip()}


def require_admin(
    admin_group: str, groups_claim: str
) -> Callable[[APIGatewayHttpResolver, NextMiddleware], Response[str]]:
    def middleware(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response[str]:
        authorizer = app.current_event.request_context.authorizer
        claims = authorizer.jwt_claim if authorizer else None
        if not claims:
            raise NotAuthenticated("a valid bearer token is required")
        if admin_group not in groups_from_claim(claims.get(groups_claim)):
            raise NotAllowed(f"only members of the '{admin_group}' group may use the admin API")
        app.append_context(admin_subject=str(claims.get("sub", "")))
        return next_middleware(app)

    return middleware
