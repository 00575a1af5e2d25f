"""/connect/{network}?t=... (GET: explain, POST: go to the network or disconnect) and the OAuth
callback /oauth/callback/{network}. Bluesky connects with AT Protocol OAuth (the POST takes the
handle, the account's own server takes the sign-in; its client metadata is served at
/oauth/bluesky/client-metadata.json) or, as the fallback, with an app password given in the
POST. OAuth is offered only when PublicBaseUrl is an https URL: it is the client_id's base.

Connect links are minted on the pages that show them (the activity page, /me) and lead back only
to that page. GET only shows a page. The POST starts OAuth (state + PKCE verifier stored for 10
minutes) and gives the browser an HttpOnly cookie whose hash is stored with the state; the
callback completes the flow once, in that browser only, and clears the cookie.

The redirect URI comes from configuration, never from request headers: PublicBaseUrl when set,
else the API's own execute-api URL, built from the API id and stage that API Gateway writes into
the request context (the client cannot set them) and the function's region.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chorus.domain.connection import ConnectFailed
from chorus.domain.content import Network
from chorus.domain.magic_links import LinkRejected, Purpose
from chorus.domain.networks import ATPROTO_CLIENT_METADATA_PATH, profile_of
from chorus.errors import NotFound
from chorus.services.connections import STATE_LIFETIME, ConnectInterrupted
from chorus.web.pages import PAGE_HEADERS, FormRejected, FormSpec, page, read_form

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
    from aws_lambda_powertools.shared.cookies import Cookie
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

    from chorus.services.connections import ConnectionsService
    from chorus.services.consent import ConsentService

CONNECT_FORM = FormSpec(single=frozenset({"form", "action", "instance", "handle", "app_password"}))
ACTIONS = ("connect", "disconnect")
# __Host-: the browser keeps it only if Secure, Path=/ and without Domain, so no sibling host can
# plant or read it. One per network, so connecting two networks in two tabs works.
COOKIE_PREFIX = "__Host-chorus-oauth-"
_API_ID = re.compile(r"^[a-z0-9]{1,32}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True)
class CallbackBase:
    """Where OAuth callbacks return, from configuration only."""

    public_base_url: str
    region: str

    def url(self, api_id: str | None, stage: str | None) -> str:
        if self.public_base_url:
            return self.public_base_url
        if not api_id or not _API_ID.match(api_id) or not _REGION.match(self.region):
            raise ConnectFailed("connecting networks is not set up yet (PublicBaseUrl); ask your admin")
        suffix = "amazonaws.com.cn" if self.region.startswith("cn-") else "amazonaws.com"
        path = "" if stage in (None, "", "$default") else f"/{stage}"
        return f"https://{api_id}.execute-api.{self.region}.{suffix}{path}"


def cookie_name(network: Network) -> str:
    return f"{COOKIE_PREFIX}{network.value}"


def binding_cookie(network: Network, value: str, max_age: int) -> Cookie:
    from aws_lambda_powertools.shared.cookies import Cookie, SameSite

    # Lax: sent on the provider's top-level redirect back to us, never on cross-site subrequests.
    return Cookie(
        cookie_name(network), value, path="/", secure=True, http_only=True, max_age=max_age, same_site=SameSite.LAX_MODE
    )


def cookie_value(event: APIGatewayProxyEventV2, name: str) -> str | None:
    for cookie in event.cookies or []:
        key, _, value = cookie.partition("=")
        if key.strip() == name:
            return value.strip()
    return None


def link_token(event: APIGatewayProxyEventV2) -> str:
    token = (event.query_string_parameters or {}).get("t")
    if not token:
        raise LinkRejected("this page needs the link from your email")
    return token


def action_of(action: str, network: Network) -> str:
    """What a connect page's form token is signed for."""
    return f"{action}:{network.value}"


def connect_router(
    consent: ConsentService, connections: ConnectionsService, callback_base: CallbackBase
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def token_param() -> str:
        return link_token(router.current_event)

    def redirect_uri(network: Network) -> str:
        context = router.current_event.request_context
        return f"{callback_base.url(context.api_id, context.stage)}/oauth/callback/{network.value}"

    @router.route("/connect/<name>", method=["GET", "HEAD"])
    def explain(name: str) -> Response[str]:
        network = network_of(name)
        token = token_param()
        claims = consent.claims(token, Purpose.CONNECT)
        connected = connections.is_connected(claims.employee_id, network)
        return page(
            200,
            "pages/connect.html.j2",
            "en",
            network=network.value,
            label=profile_of(network).label,
            asks_server=profile_of(network).on_employee_server,
            asks_app_password=profile_of(network).app_password,
            offers_atproto=connections.offers_atproto_oauth(network),
            connected=connected,
            action=f"/connect/{network.value}?t={token}",
            form_token=consent.form_token(claims, action_of("disconnect" if connected else "connect", network)),
            back=consent.origin_link(claims),
        )

    @router.post("/connect/<name>")
    def act(name: str) -> Response[str]:
        network = network_of(name)
        token = token_param()
        claims = consent.claims(token, Purpose.CONNECT)
        form = read_form(router.current_event, CONNECT_FORM)
        action = form.one("action")
        if action not in ACTIONS:
            raise FormRejected("this form was not sent from the page; nothing was recorded")
        consent.check_form(claims, form.one("form"), action_of(action, network))
        back = consent.origin_link(claims)
        if action == "disconnect":
            connections.disconnect(claims.employee_id, network)
            consent.cancel_network(claims.employee_id, network)
            return Response(status_code=303, headers={"Location": back}, body="")
        if profile_of(network).app_password and (
            form.one("app_password") or not connections.offers_atproto_oauth(network)
        ):
            # No trip to the network's site: the employee gave an app password on this page.
            connections.connect_with_app_password(
                claims.employee_id, network, handle=form.one("handle"), app_password=form.one("app_password")
            )
            return Response(status_code=303, headers={"Location": back}, body="")
        start = connections.begin(
            claims.employee_id,
            network,
            redirect_uri=redirect_uri(network),
            return_to=back,
            instance_url=form.one("instance") or None,
            handle=form.one("handle"),
        )
        return Response(
            status_code=303,
            headers={"Location": start.authorization_url},
            body="",
            cookies=[binding_cookie(network, start.browser_secret, int(STATE_LIFETIME.total_seconds()))],
        )

    @router.get("/oauth/callback/<name>")
    def callback(name: str) -> Response[str]:
        network = network_of(name)
        browser_secret = cookie_value(router.current_event, cookie_name(network))
        query = router.current_event.query_string_parameters or {}
        code, state = query.get("code"), query.get("state")
        label = profile_of(network).label
        try:
            if query.get("error"):
                back = connections.abandon(network, state=state or "", browser_secret=browser_secret)
                raise ConnectInterrupted(f"{label} did not allow the connection; nothing changed", back or "")
            if not code or not state:
                raise ConnectFailed("this connection answer is incomplete; start again from your page")
            pending = connections.complete(
                network, code=code, state=state, browser_secret=browser_secret, iss=query.get("iss")
            )
            return_to = pending.return_to if pending.return_to.startswith(("/a/", "/me?")) else "/"
            response = Response(status_code=303, headers={"Location": return_to}, body="")
        except ConnectInterrupted as error:
            response = failure_page(error.http_status, error.message, error.return_to)
        except ConnectFailed as error:
            response = failure_page(error.http_status, error.message, "")
        response.cookies.append(binding_cookie(network, "", 0))
        return response

    return router


def client_metadata_router(connections: ConnectionsService) -> APIGatewayHttpRouter:
    """AT Protocol OAuth's client metadata, served at the client_id URL (a public client: no
    keys in it). Bluesky's authorization servers fetch it when an employee connects."""
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    @router.get(ATPROTO_CLIENT_METADATA_PATH)
    def bluesky_client_metadata() -> Response[str]:
        metadata = connections.atproto_client_metadata()
        if metadata is None:
            raise NotFound("Bluesky is not connected with OAuth here")
        return Response(
            status_code=200,
            content_type="application/json",
            headers={"Cache-Control": "public, max-age=300"},
            body=json.dumps(metadata, separators=(",", ":")),
        )

    return router


def network_of(name: str) -> Network:
    try:
        network = Network(name)
    except ValueError:
        raise NotFound("no such network") from None
    if not profile_of(network).needs_connection:
        raise NotFound("this network needs no connection")
    return network


def failure_page(status: int, message: str, back: str) -> Response[str]:
    """Why the connection did not happen, and the way back to the page it started from."""
    response = page(
        status,
        "pages/message.html.j2",
        "en",
        heading="Not connected",
        message=message,
        me_link=None,
        back=back if back.startswith(("/a/", "/me?")) else None,
    )
    response.headers.update(PAGE_HEADERS)
    return response
