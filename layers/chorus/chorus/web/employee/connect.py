"""/connect/{network}?t=... (GET: explain, POST: go to the network or disconnect) and the OAuth
callback /oauth/callback/{network}.

GET only shows a page. The POST starts OAuth (state + PKCE verifier stored for 10 minutes) and
redirects to the network; the callback completes it once (the state is single use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chorus.domain.connection import ConnectFailed
from chorus.domain.content import Network
from chorus.domain.magic_links import LinkRejected
from chorus.errors import NotFound
from chorus.web.employee.activity import NETWORK_LABELS
from chorus.web.pages import first, form_fields, page

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    from chorus.services.connections import ConnectionsService
    from chorus.services.consent import ConsentService

CONNECTABLE = (Network.LINKEDIN, Network.X, Network.MASTODON)


def connect_router(
    consent: ConsentService, connections: ConnectionsService, public_base_url: str
) -> APIGatewayHttpRouter:
    from aws_lambda_powertools.event_handler import Response
    from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

    router = APIGatewayHttpRouter()

    def network_of(name: str) -> Network:
        try:
            network = Network(name)
        except ValueError:
            raise NotFound("no such network") from None
        if network not in CONNECTABLE:
            raise NotFound("this network needs no connection")
        return network

    def token_param() -> str:
        token = (router.current_event.query_string_parameters or {}).get("t")
        if not token:
            raise LinkRejected("this page needs the link from your email")
        return token

    def base_url() -> str:
        if public_base_url:
            return public_base_url
        host = router.current_event.headers.get("host") or router.current_event.request_context.domain_name
        scheme = "http" if host.split(":")[0] in {"127.0.0.1", "localhost"} else "https"
        return f"{scheme}://{host}"

    def back_to(token: str) -> str:
        claims = consent.claims(token)
        return f"/a/{token}" if claims.content_id else f"/me?t={token}"

    @router.route("/connect/<name>", method=["GET", "HEAD"])
    def explain(name: str) -> Response[str]:
        network = network_of(name)
        token = token_param()
        claims = consent.claims(token)
        return page(
            200,
            "pages/connect.html.j2",
            "en",
            network=network.value,
            label=NETWORK_LABELS[network],
            connected=connections.is_connected(claims.employee_id, network),
            action=f"/connect/{network.value}?t={token}",
            form_token=consent.form_token(claims),
            back=back_to(token),
        )

    @router.post("/connect/<name>")
    def act(name: str) -> Response[str]:
        network = network_of(name)
        token = token_param()
        claims = consent.claims(token)
        fields = form_fields(router.current_event.decoded_body)
        consent.check_form(claims, first(fields, "form"))
        if first(fields, "action") == "disconnect":
            connections.disconnect(claims.employee_id, network)
            consent.cancel_network(claims.employee_id, network)
            return Response(status_code=303, headers={"Location": back_to(token)}, body="")
        url = connections.begin(
            claims.employee_id,
            network,
            redirect_uri=f"{base_url()}/oauth/callback/{network.value}",
            return_to=back_to(token),
            instance_url=first(fields, "instance") or None,
        )
        return Response(status_code=303, headers={"Location": url}, body="")

    @router.get("/oauth/callback/<name>")
    def callback(name: str) -> Response[str]:
        network = network_of(name)
        query = router.current_event.query_string_parameters or {}
        if query.get("error"):
            raise ConnectFailed(f"{NETWORK_LABELS[network]} did not allow the connection; nothing changed")
        code, state = query.get("code"), query.get("state")
        if not code or not state:
            raise ConnectFailed("this connection answer is incomplete; start again")
        pending = connections.complete(network, code=code, state=state)
        return_to = pending.return_to if pending.return_to.startswith(("/a/", "/me?")) else "/"
        return Response(status_code=303, headers={"Location": return_to}, body="")

    return router
