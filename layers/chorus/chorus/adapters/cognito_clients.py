"""The console's Cognito app client id, found by name on a container's first request.

The client's callback URL names the HTTP API, and the API's routes name the console function: the
function's environment cannot also name the client (a dependency cycle), so it names the pool and
the client's name, and reads the id once per warm container (ListUserPoolClients)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chorus.errors import StoreError


def client_id_by_name(cognito: Any, user_pool_id: str, client_name: str) -> str:
    request: dict[str, Any] = {"UserPoolId": user_pool_id, "MaxResults": 60}
    try:
        while True:
            response = cognito.list_user_pool_clients(**request)
            for client in response.get("UserPoolClients", []):
                if client.get("ClientName") == client_name:
                    return str(client["ClientId"])
            if not response.get("NextToken"):
                break
            request["NextToken"] = response["NextToken"]
    except ClientError as exc:
        raise StoreError("could not read the console's app client") from exc
    raise StoreError(f"the user pool has no app client named {client_name}")
