"""The web function answers before anything above it gives up (issue 9, item 12).

API Gateway HTTP APIs wait at most 30 s for an integration. The web function's own timeout must
stay under that, and leave room for every outbound call one request can make to an OAuth
provider, at their (connect, read) limits, plus its AWS calls: otherwise a slow provider makes
Lambda kill the function after the single-use state is spent, and the employee sees API
Gateway's bare 503 instead of a page with the way back.
"""

from __future__ import annotations

from chorus.adapters.networks.bluesky_oauth import CALLBACK_CALLS, OAUTH_TIMEOUT, BlueskyOAuth
from chorus.adapters.oauth import CALLS_PER_REQUEST, TIMEOUT, RequestsOAuthClient
from tests.support.template import resource

API_GATEWAY_INTEGRATION_LIMIT = 30.0
# DynamoDB (take the state, store the connection), KMS (seal the tokens), Secrets Manager (the
# client secret, cached), and a cold start's imports, which API Gateway also waits for.
AWS_AND_COLD_START = 4.0


def test_the_web_function_outlasts_its_provider_calls_and_answers_before_api_gateway():
    timeout = float(resource("WebFunction")["Properties"]["Timeout"])
    outbound = CALLS_PER_REQUEST * sum(TIMEOUT)
    assert outbound + AWS_AND_COLD_START <= timeout, (outbound, timeout)
    assert timeout + 1.0 < API_GATEWAY_INTEGRATION_LIMIT


def test_the_oauth_client_uses_the_budgeted_timeouts_by_default():
    assert RequestsOAuthClient()._timeout == TIMEOUT
    connect, read = TIMEOUT
    assert 0 < connect < read


def test_bluesky_oauth_callback_calls_fit_the_web_functions_timeout():
    # Given the callback's calls to the account's servers, each at its (connect, read) limits
    timeout = float(resource("WebFunction")["Properties"]["Timeout"])
    outbound = CALLBACK_CALLS * sum(OAUTH_TIMEOUT)  # type: ignore[arg-type]
    # Then they and the AWS calls end before the function does
    assert outbound + AWS_AND_COLD_START <= timeout, (outbound, timeout)
    assert BlueskyOAuth()._timeout == OAUTH_TIMEOUT
