"""Key layout of the single table. Only the store package builds or reads keys."""

from __future__ import annotations

PROFILE = "PROFILE"
META = "META"
ROSTER_ACTIVE = "ROSTER#active"
CONTENT_ACTIVE = "CONTENT#active"


# Roster index entries written before the zone led the sort key: "<employee id>" (always "e-...").
UNZONED_ROSTER_PREFIX = "e-"
# The digest's zone registry: every time zone of an employee indexed on the roster (a string set),
# so the quarter-hour tick looks only at zones in use.
DIGEST_ZONES = "DIGEST#zones"


def roster_sk(zone: str, slot: str, employee_id: str) -> str:
    """The roster index's sort key: zone, then digest slot, so a wave reads only its employees."""
    return f"{zone}#{slot}#{employee_id}"


def roster_wave_prefix(zone: str, slot: str) -> str:
    return f"{zone}#{slot}#"


def employee_pk(employee_id: str) -> str:
    return f"EMP#{employee_id}"


def content_pk(content_id: str) -> str:
    return f"CONTENT#{content_id}"


def email_lookup(email: str) -> str:
    return f"EMAIL#{email}"


# GSI2 listings of approvals waiting to go out: SCHEDULED by publish time, PUBLISHING by the
# end of the attempt's lease.
SCHEDULED = "SCHEDULED"
PUBLISHING = "PUBLISHING"
# ...and the compliance review's queue: approvals IN_REVIEW, by the time the employee approved.
REVIEW = "REVIEW"


def digest_sk(week_id: str) -> str:
    return f"DIGEST#{week_id}"


def digest_slack_sk(week_id: str) -> str:
    return f"DIGEST#{week_id}#SLACK"


def digest_run_pk(week_id: str) -> str:
    return f"DIGESTRUN#{week_id}"


DECLINE_PREFIX = "DECLINE#"
APPROVAL_PREFIX = "APPROVAL#"


def impact_sk(week: str) -> str:
    return f"IMPACT#{week}"


def digest_page_sk(run_id: str, page: int) -> str:
    return f"PAGE#{run_id}#{page:07d}"


def decline_sk(content_id: str) -> str:
    return f"{DECLINE_PREFIX}{content_id}"


def approval_sk(content_id: str, network: str) -> str:
    return f"{APPROVAL_PREFIX}{content_id}#{network}"


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


def quota_pk(network: str) -> str:
    return f"QUOTA#{network}"


APP_QUOTA = "APP"


def link_pk(code: str) -> str:
    return f"LINK#{code}"


def click_sk(visitor: str) -> str:
    return f"CLICK#{visitor}"


BALANCE = "BALANCE"


def week_activity_sk(week: str) -> str:
    """An employee's approvals of one company week (domain.scoring.company_week_key)."""
    return f"WEEKACTIVITY#{week}"


def points_sk(event_id: str) -> str:
    return f"POINTS#{event_id}"


def score_sk(period: str, scope: str) -> str:
    return f"SCORE#{period}#{scope}"


def leaderboard_pk(period: str, scope: str) -> str:
    return f"LB#{period}#{scope}"


def stats_pk(period: str, shard: int) -> str:
    """One of the period's counter shards: the campaign, group and company rows of one period are
    spread over STATS_SHARDS partitions, and added up when read."""
    return f"STATS#{period}#{shard}"


COMPANY_STATS = "COMPANY"


def campaign_stats_sk(campaign: str) -> str:
    return f"CAMPAIGN#{campaign}"


def group_stats_sk(group: str) -> str:
    return f"GROUP#{group}"


def histogram_pk(period: str, shard: int) -> str:
    """People per score bucket on the period's overall board, one of HISTOGRAM_SHARDS shards."""
    return f"HIST#{period}#{shard}"


HISTOGRAM = "HISTOGRAM"


def award_pk(event_id: str) -> str:
    """Markers of an award's later transactions (its first one is the ledger entry itself)."""
    return f"AWARD#{event_id}"


def award_chunk_sk(chunk: int) -> str:
    return f"CHUNK#{chunk}"


def award_chunk_of(sk: str) -> int:
    return int(sk.removeprefix("CHUNK#"))


VISITS_PREFIX = "VISITS#"


def visits_sk(content_id: str, network: str) -> str:
    """Visits of one post past its click cap (the approval item is not written for those)."""
    return f"{VISITS_PREFIX}{content_id}#{network}"


def export_pk(export_id: str) -> str:
    return f"EXPORT#{export_id}"


CENSUS = "CENSUS"
CENSUS_TOTAL = "TOTAL"


def census_page_sk(number: int) -> str:
    return f"GROUPS#{number:04d}"


# The consent ledger by day: a pointer per approval or decline recorded that day (UTC), so the
# retention job finds what to pseudonymise without a Scan; the job's progress is one item.
def ledger_day_pk(day: str) -> str:
    return f"LEDGER#{day}"


def ledger_pointer_sk(pk: str, sk: str) -> str:
    return f"{pk}|{sk}"


LEDGER_RETENTION_CURSOR = "RETENTION#ledger"
# Where the one-off scan that gives records from before the pointers theirs has got to.
LEDGER_BACKFILL = "RETENTION#ledger-backfill"


# The sandbox network's feed (the demo's and tests' network): one partition, a post per key.
SANDBOX_FEED = "SANDBOX#feed"


def sandbox_post_sk(idempotency_key: str) -> str:
    return f"POST#{idempotency_key}"


def slack_request_pk(signature_digest: str) -> str:
    """A Slack request seen (the SHA-256 of its signature): refused if it comes again."""
    return f"SLACKREQ#{signature_digest}"


# The admin console: a sign-in in progress (by the hash of its OIDC state) and a session (by the
# hash of its id). Both expire by TTL; the console function's IAM is limited to this prefix.
CONSOLE_PREFIX = "CONSOLE#"


def console_sign_in_pk(state_hash: str) -> str:
    return f"{CONSOLE_PREFIX}SIGNIN#{state_hash}"


def console_session_pk(session_hash: str) -> str:
    return f"{CONSOLE_PREFIX}SESSION#{session_hash}"


# Participation by group, one item per month (SK: the month's period key), kept by the census run.
PARTICIPATION = "PARTICIPATION"
# Retracted content keeps a listing of its own, so the console's library can show it without a Scan.
CONTENT_RETRACTED = "CONTENT#retracted"


def content_funnel_pk(content_id: str, shard: int) -> str:
    """One of a content item's funnel counter shards (sent, opened, approvals, publications,
    visits), spread so a popular item's counting is not one hot key; added up when read."""
    return f"FUNNEL#{content_id}#{shard}"


CONTENT_FUNNEL = "FUNNEL"


def opened_sk(content_id: str) -> str:
    """In the employee's partition (so an erasure removes it): they opened the item's approval
    page, counted once in its funnel."""
    return f"OPENED#{content_id}"


# The report function's roll-up (store/rollups.py): one partition of a few JSON documents the
# console and the admin API read instead of adding shards up on each request.
ROLLUP = "ROLLUP"
ROLLUP_CAMPAIGNS = "CAMPAIGNS"


def rollup_teams_sk(period_key: str) -> str:
    return f"TEAMS#{period_key}"
