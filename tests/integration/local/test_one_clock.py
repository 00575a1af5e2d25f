"""One clock on the local cloud: after a tick, pages, links, tokens, the feed and scores follow it.

This module's cloud jumps days ahead; it has a cloud of its own (the fixture is per module).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from boto3.dynamodb.types import TypeDeserializer

from chorus.domain.content import content_id_for
from chorus.domain.employee import employee_id_for
from chorus_local.cloud import LocalCloud
from tests.support.local_cloud import activity_link, approval_form, eventually, upload

PARIS = ZoneInfo("Europe/Paris")
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _tick(cloud: LocalCloud, to: datetime) -> dict[str, object]:
    """What `chorus local tick --to` sends."""
    answer = requests.post(f"{cloud.api_url}/_local/clock", json={"to": to.isoformat()}, timeout=120)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _offered(page: str) -> tuple[datetime, datetime]:
    """The earliest and latest times the page's time picker allows, in Paris."""
    field = re.search(r'<input type="datetime-local" name="at"[^>]*>', page)
    assert field is not None, page
    earliest = re.search(r'min="([^"]+)"', field.group(0))
    latest = re.search(r'max="([^"]+)"', field.group(0))
    assert earliest and latest
    return (
        datetime.fromisoformat(earliest.group(1)).replace(tzinfo=PARIS),
        datetime.fromisoformat(latest.group(1)).replace(tzinfo=PARIS),
    )


def _item(cloud: LocalCloud, pk: str, sk: str) -> dict[str, object]:
    found = cloud.client("dynamodb").get_item(
        TableName=cloud.resources["Table"], Key={"PK": {"S": pk}, "SK": {"S": sk}}
    )
    deserialize = TypeDeserializer().deserialize
    return {name: deserialize(value) for name, value in found.get("Item", {}).items()}


def test_after_a_tick_everything_follows_the_virtual_clock(local_cloud: LocalCloud) -> None:
    # Given an employee in Paris, content that runs for a month, a link and an admin token of today
    cloud = local_cloud
    run = uuid.uuid4().hex[:8]
    email = f"clock-{run}@example.com"
    ends = (cloud.clock.now() + timedelta(days=30)).date()
    upload(cloud, "employees", f"{run}.csv", f"email,name,timezone\n{email},Cleo,Europe/Paris\n")
    upload(
        cloud,
        "content",
        f"{run}.csv",
        f"id,title,url,text,ends_at,points,points_publish\nt-{run},Time,https://example.com/{run},Hi,{ends},3,5\n",
    )
    employee, content = employee_id_for(email), content_id_for(f"t-{run}", "", "")
    old_link = activity_link(cloud, employee, content, cloud.clock.now() + timedelta(days=2))
    old_token = requests.post(f"{cloud.api_url}/_local/token", json={}, timeout=10).json()["token"]
    real_start = datetime.now(UTC)

    # When the clock jumps three days ahead
    virtual_now = datetime.fromisoformat(str(_tick(cloud, cloud.clock.now() + timedelta(days=3))["now"]))

    # Then the health page and the activity page read the virtual time
    health = requests.get(f"{cloud.api_url}/_local/health", timeout=10).json()
    assert datetime.fromisoformat(health["clock"]) - real_start > timedelta(days=3) - timedelta(minutes=1)
    link = activity_link(cloud, employee, content, virtual_now + timedelta(days=2))
    page = requests.get(f"{cloud.api_url}/a/{link}", timeout=30)
    assert page.status_code == 200, page.text
    earliest, _ = _offered(page.text)
    assert timedelta(minutes=10) <= earliest - virtual_now <= timedelta(minutes=11)
    # And a link that had two days to live has expired, by the virtual clock
    assert requests.get(f"{cloud.api_url}/a/{old_link}", timeout=30).status_code == 410
    # And so has the one-hour admin token; a new one works
    admin = f"{cloud.api_url}/admin/content"
    assert requests.get(admin, headers={"Authorization": f"Bearer {old_token}"}, timeout=30).status_code == 401
    fresh_token = requests.post(f"{cloud.api_url}/_local/token", json={}, timeout=10).json()["token"]
    assert requests.get(admin, headers={"Authorization": f"Bearer {fresh_token}"}, timeout=30).status_code == 200

    # When the employee approves "now" on the sandbox and the clock passes it (and any quiet hours)
    body = approval_form(cloud, employee, content, network="sandbox", text_sandbox=f"Now ({run})", when="now")
    answer = requests.post(
        f"{cloud.api_url}/a/{link}", data=body, headers={**FORM, "origin": cloud.api_url}, allow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    approval = _item(cloud, f"EMP#{employee}", f"APPROVAL#{content}#sandbox")
    publish_at = datetime.fromisoformat(str(approval["publish_at"]))
    assert publish_at - virtual_now < timedelta(hours=14)  # a minute ahead, or when quiet hours end
    _tick(cloud, virtual_now + timedelta(hours=14))

    # Then the feed is stamped at the scheduled minute of the virtual clock
    feed = requests.get(f"{cloud.api_url}/_local/feed.json", timeout=30).json()["posts"]
    [post] = [item for item in feed if run in item["text"]]
    # (the virtual clock runs on from the stop while the queue hands the post over: a loaded
    # machine takes a second or two)
    published_at = datetime.fromisoformat(post["published_at"])
    assert publish_at.replace(microsecond=0) <= published_at < publish_at + timedelta(minutes=1)
    # And the publication is scored at that time too (the stream record is dated by the clock)
    awarded = eventually(lambda: _item(cloud, f"EMP#{employee}", f"POINTS#published#{approval['approval_id']}"))
    assert awarded, "the publication was not scored"
    assert abs(datetime.fromisoformat(str(awarded["awarded_at"])) - publish_at) < timedelta(minutes=2)
