"""Key layout of the single table. Only the store package builds or reads keys."""

from __future__ import annotations

PROFILE = "PROFILE"
META = "META"
ROSTER_ACTIVE = "ROSTER#active"
CONTENT_ACTIVE = "CONTENT#active"


def employee_pk(employee_id: str) -> str:
    return f"EMP#{employee_id}"


def content_pk(content_id: str) -> str:
    return f"CONTENT#{content_id}"


def email_lookup(email: str) -> str:
    return f"EMAIL#{email}"


SCHEDULED = "SCHEDULED"


def digest_sk(week_id: str) -> str:
    return f"DIGEST#{week_id}"


def digest_run_pk(week_id: str) -> str:
    return f"DIGESTRUN#{week_id}"


def impact_sk(week: str) -> str:
    return f"IMPACT#{week}"


def digest_page_sk(run_id: str, page: int) -> str:
    return f"PAGE#{run_id}#{page:07d}"


def decline_sk(content_id: str) -> str:
    return f"DECLINE#{content_id}"


def approval_sk(content_id: str, network: str) -> str:
    return f"APPROVAL#{content_id}#{network}"


def approvals_of(content_id: str) -> str:
    return f"APPROVALS#{content_id}"


CONNECTION_EXPIRY = "CONNEXP"


def connection_sk(network: str) -> str:
    return f"CONN#{network}"


def oauth_state_pk(state: str) -> str:
    return f"OAUTH#{state}"


def mastodon_app_pk(host: str) -> str:
    return f"APP#mastodon#{host}"


OPERATOR_ALERTS = "ALERTS#operator"


def operator_alert_sk(network: str, kind: str) -> str:
    return f"ALERT#{network}#{kind}"


def mastodon_instance_pk(host: str) -> str:
    return f"INSTANCE#mastodon#{host}"


def day_count_sk(network: str, day: str) -> str:
    return f"DAYCOUNT#{network}#{day}"


def link_pk(code: str) -> str:
    return f"LINK#{code}"


def click_sk(visitor: str) -> str:
    return f"CLICK#{visitor}"


BALANCE = "BALANCE"


def points_sk(event_id: str) -> str:
    return f"POINTS#{event_id}"


def score_sk(period: str, scope: str) -> str:
    return f"SCORE#{period}#{scope}"


def leaderboard_pk(period: str, scope: str) -> str:
    return f"LB#{period}#{scope}"


def stats_pk(period: str) -> str:
    return f"STATS#{period}"


# The sandbox network's feed (the demo's and tests' network): one partition, a post per key.
SANDBOX_FEED = "SANDBOX#feed"


def sandbox_post_sk(idempotency_key: str) -> str:
    return f"POST#{idempotency_key}"
