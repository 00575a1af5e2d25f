"""Bluesky adapter: the record as sent (bytes), facets on UTF-8 byte offsets, the card and its
thumb, the record key that makes a repeat the same request, and failure kinds."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.adapters.networks.bluesky import (
    APP_PASSWORD,
    THUMB_MAX_BYTES,
    BlueskyPublisher,
    BlueskySessions,
    link_facets,
    post_text,
    record_key,
    tid,
)
from chorus.adapters.networks.egress import PublicSession
from chorus.adapters.networks.http import NetworkCredentials
from chorus.domain.connection import ConnectFailed
from chorus.domain.content import Network
from chorus.domain.lengths import BLUESKY_LINK_RESERVE, grapheme_count
from chorus.domain.networks import profile_of
from chorus.domain.publishing import FailureKind, PostRequest, PublishFailed
from tests.support.fake_dns import FakeDns
from tests.unit.adapters.recordings import TOKEN, recorded, recorded_now, replay, sent_json

PDS = "https://morel.us-east.host.bsky.network"
DID = "did:plc:z72i7hdynmk6r22z27h6tvur"
CREATE = f"{PDS}/xrpc/com.atproto.repo.createRecord"
GET_RECORD = f"{PDS}/xrpc/com.atproto.repo.getRecord"
UPLOAD = f"{PDS}/xrpc/com.atproto.repo.uploadBlob"
IMAGE = "https://cdn.example.com/q3.png"
LINK = "https://go.example.com/r/Kq7mWx2PzR4t"
STARTED = datetime(2026, 11, 30, 9, 0, 0, 123456, tzinfo=UTC)
PUBLIC = "52.1.2.3"
_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def publisher() -> BlueskyPublisher:
    dns = FakeDns({"morel.us-east.host.bsky.network": [[PUBLIC]], "cdn.example.com": [[PUBLIC]]})
    return BlueskyPublisher(PublicSession(dns), clock=lambda: recorded_now("bluesky_rate_limited"))


def skeet(text: str = "Proud of the team 🎉", **changes: Any) -> PostRequest:
    post = PostRequest(
        network=Network.BLUESKY,
        idempotency_key="a-0123456789abcdef01234567-r1",
        employee_id="e1",
        text=text,
        link=LINK,
        title="Q3 report",
        locale="fr",
        created_at=STARTED,
    )
    return replace(post, **changes)


def connected(pds: str | None = PDS, did: str | None = DID) -> NetworkCredentials:
    return NetworkCredentials(access_token=TOKEN, member_id=did, instance_url=pds)


def created(rsps: responses.RequestsMock, post: PostRequest) -> str:
    """The PDS accepts the record; its answer names the record at our key."""
    body = recorded("bluesky_record_created")["body"]
    uri = f"at://{DID}/app.bsky.feed.post/{record_key(post)}"
    rsps.add("POST", CREATE, status=200, json={**body, "uri": uri})
    return uri


class TestTheRecord:
    def test_the_request_body_is_the_record_with_facet_card_language_and_key(
        self, rsps: responses.RequestsMock
    ) -> None:
        # Given a PDS that accepts the record
        post = skeet()
        uri = created(rsps, post)
        # When published
        published = publisher().publish(post, connected())
        # Then the bytes sent are exactly this createRecord call
        request = rsps.calls[0].request
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["Content-Type"] == "application/json"
        text = "Proud of the team 🎉\n\n" + LINK
        start = len("Proud of the team 🎉\n\n".encode())
        assert sent_json(rsps) == {
            "repo": DID,
            "collection": "app.bsky.feed.post",
            "rkey": record_key(post),
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2026-11-30T09:00:00.000Z",
                "langs": ["fr"],
                "facets": [
                    {
                        "$type": "app.bsky.richtext.facet",
                        "index": {"byteStart": start, "byteEnd": start + len(LINK)},
                        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}],
                    }
                ],
                "embed": {
                    "$type": "app.bsky.embed.external",
                    "external": {"uri": LINK, "title": "Q3 report", "description": ""},
                },
            },
        }
        # The text goes as UTF-8, not \\u escapes: its bytes are the approved text's bytes
        assert "🎉".encode() in request.body
        assert published.external_id == uri
        assert published.url == f"https://bsky.app/profile/{DID}/post/{record_key(post)}"

    def test_the_record_key_is_a_tid_fixed_by_the_attempt(self) -> None:
        # Given the same attempt twice, and the same post in another attempt
        post = skeet()
        # Then a repeat names the same record, another attempt another one
        assert record_key(post) == record_key(skeet())
        # the approval record keeps the start to the second: a repeat read back from it agrees
        assert record_key(post) == record_key(skeet(created_at=STARTED.replace(microsecond=0)))
        assert record_key(post) != record_key(skeet(created_at=datetime(2026, 11, 30, 9, 5, tzinfo=UTC)))
        assert record_key(post) != record_key(skeet(idempotency_key="a-ffff-r2"))
        assert _TID.match(record_key(post))

    def test_tid_layout(self) -> None:
        # TIDs sort as their time does, and zero is 2222222222222 (atproto.com/specs/tid)
        assert tid(0, 0) == "2222222222222"
        assert tid(1, 0) < tid(2, 0) < tid(2**52, 0)
        with pytest.raises(ValueError, match="range"):
            tid(2**53, 0)

    @pytest.mark.parametrize(("locale", "langs"), [("en", ["en"]), ("en_GB", ["en-GB"]), (None, None), ("x!", None)])
    def test_langs_come_from_the_employees_locale(
        self, rsps: responses.RequestsMock, locale: str | None, langs: list[str] | None
    ) -> None:
        post = skeet(locale=locale)
        created(rsps, post)
        publisher().publish(post, connected())
        assert sent_json(rsps)["record"].get("langs") == langs

    def test_a_link_in_the_employees_own_text_gets_its_facet_too(self) -> None:
        text = post_text(skeet("Lisez 日本語 https://example.org/a?b=1 ici"))
        facets = link_facets(text)
        assert [f["features"][0]["uri"] for f in facets] == ["https://example.org/a?b=1", LINK]


# Text that puts the links where byte and character offsets part: emoji (with ZWJ and skin
# tones), CJK, combining marks, flags, RTL, astral characters.
_HARD = st.sampled_from(
    ["👨‍👩‍👧‍👦", "👍🏽", "🇫🇷", "e\u0301", "日本語", "한국어", "\u0627\u064b", "\U0001d400", "é", "\n", " "]
)
_TEXTS = st.lists(st.one_of(_HARD, st.text(max_size=5)), max_size=12).map("".join)


class TestFacets:
    @settings(max_examples=300)
    @given(before=_TEXTS, path=st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), after=_TEXTS)
    def test_the_bytes_a_facet_covers_are_exactly_its_url(self, before: str, path: str, after: str) -> None:
        # Given any text with a link inside, and the tracked link after it
        url = f"https://example.org/{path}"
        text = post_text(skeet(f"{before} {url} {after}"))
        encoded = text.encode("utf-8")
        # When the facets are computed
        facets = link_facets(text)
        # Then each facet's byte range slices out exactly its URL, and the tracked link is last
        for facet in facets:
            index = facet["index"]
            covered = encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8")
            assert covered == facet["features"][0]["uri"]
        assert facets[-1]["features"][0]["uri"] == LINK
        assert facets[-1]["index"]["byteEnd"] == len(encoded)
        starts = [facet["index"]["byteStart"] for facet in facets]
        assert starts == sorted(starts)

    @given(_TEXTS)
    def test_the_text_sent_is_the_approved_text_byte_for_byte(self, text: str) -> None:
        with responses.RequestsMock() as rsps:
            post = skeet(text)
            created(rsps, post)
            try:
                publisher().publish(post, connected())
            except PublishFailed as failure:  # too long for Bluesky: refused before sending
                assert failure.kind is FailureKind.REJECTED
                assert not rsps.calls
                return
            assert sent_json(rsps)["record"]["text"] == text + "\n\n" + LINK


class TestLength:
    def test_300_graphemes_of_zwj_emoji_fit_where_code_points_would_not(self) -> None:
        rule = profile_of(Network.BLUESKY).length_rule
        family = "👨‍👩‍👧‍👦"  # 7 code points, one grapheme
        assert grapheme_count(family * 10) == 10
        assert rule.length(family * rule.room) == rule.room
        assert rule.fits(family * rule.room)
        assert not rule.fits(family * (rule.room + 1))
        assert rule.room == 300 - 2 - BLUESKY_LINK_RESERVE

    @given(_TEXTS)
    def test_never_more_graphemes_than_code_points_nor_fewer_than_one_per_cluster(self, text: str) -> None:
        count = grapheme_count(text)
        assert count <= len(text)
        assert (count == 0) == (text == "")

    @pytest.mark.parametrize(
        "base",
        [
            "https://a1b2c3d4e5.execute-api.ap-southeast-2.amazonaws.com",  # the API's own URL, longest region
            "https://a1b2c3d4e5.execute-api.cn-northwest-1.amazonaws.com.cn",
            "https://" + "s" * 45 + ".example.com",  # a PublicBaseUrl of 65 characters
        ],
    )
    def test_the_tracked_link_of_any_default_deployment_fits_its_reserve(self, base: str) -> None:
        # Given a text that fills the room the page offers, and the tracked link the publisher adds
        rule = profile_of(Network.BLUESKY).length_rule
        link = f"{base}/r/Kq7mWx2PzR4t"
        post = skeet("é" * rule.room, link=link)
        # Then the post fits Bluesky's 300 graphemes
        assert grapheme_count(post_text(post)) <= 300

    def test_combining_marks_count_once(self) -> None:
        assert grapheme_count("e\u0301te\u0301") == 3  # "été"

    def test_a_post_over_300_graphemes_is_refused_before_sending(self, rsps: responses.RequestsMock) -> None:
        # The tracked link is longer than the reserve could ever be made to hold
        post = skeet("a" * 250, link="https://" + "l" * 60 + ".example.com/r/x")
        with pytest.raises(PublishFailed) as refused:
            publisher().publish(post, connected())
        assert refused.value.kind is FailureKind.REJECTED
        assert "300" in refused.value.reason
        assert not rsps.calls


class TestThumb:
    def test_the_image_is_uploaded_as_a_blob_and_set_as_the_cards_thumb(self, rsps: responses.RequestsMock) -> None:
        png = b"\x89PNG\r\n\x1a\n" + b"\0" * 1000
        rsps.add("GET", IMAGE, status=200, body=png, content_type="image/png")
        replay(rsps, "POST", UPLOAD, "bluesky_blob_uploaded")
        post = skeet(image_url=IMAGE)
        created(rsps, post)
        publisher().publish(post, connected())
        upload = rsps.calls[1].request
        assert upload.body == png
        assert upload.headers["Content-Type"] == "image/png"
        assert upload.headers["Authorization"] == f"Bearer {TOKEN}"
        thumb = sent_json(rsps, 2)["record"]["embed"]["external"]["thumb"]
        assert thumb == recorded("bluesky_blob_uploaded")["body"]["blob"]

    @pytest.mark.parametrize(
        "answer",
        [
            {"status": 200, "body": b"x" * (THUMB_MAX_BYTES + 1), "content_type": "image/jpeg"},
            {"status": 200, "body": b"<html></html>", "content_type": "text/html"},
            {"status": 404, "body": b"", "content_type": "image/png"},
            {"body": requests.exceptions.ConnectTimeout("slow")},
        ],
        ids=["too large", "not an image", "missing", "unreachable"],
    )
    def test_no_thumb_when_it_cannot_be_had_and_the_post_still_goes(
        self, rsps: responses.RequestsMock, answer: dict[str, Any]
    ) -> None:
        rsps.add("GET", IMAGE, **answer)
        post = skeet(image_url=IMAGE)
        created(rsps, post)
        publisher().publish(post, connected())
        assert "thumb" not in sent_json(rsps, 1)["record"]["embed"]["external"]
        assert [call.request.url for call in rsps.calls] == [IMAGE, CREATE]

    def test_a_failed_upload_leaves_the_thumb_out(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", IMAGE, status=200, body=b"\x89PNG", content_type="image/png")
        rsps.add("POST", UPLOAD, status=400, json={"error": "BlobTooLarge", "message": "too large"})
        post = skeet(image_url=IMAGE)
        created(rsps, post)
        publisher().publish(post, connected())
        assert "thumb" not in sent_json(rsps, 2)["record"]["embed"]["external"]

    def test_an_image_on_a_private_address_is_never_fetched(self, rsps: responses.RequestsMock) -> None:
        dns = FakeDns({"morel.us-east.host.bsky.network": [[PUBLIC]], "cdn.example.com": [["10.0.0.7"]]})
        post = skeet(image_url=IMAGE)
        created(rsps, post)
        BlueskyPublisher(PublicSession(dns)).publish(post, connected())
        assert [call.request.url for call in rsps.calls] == [CREATE]


class TestExactlyOnce:
    def test_a_record_already_at_our_key_is_the_post(self, rsps: responses.RequestsMock) -> None:
        # Given the first attempt's answer was lost: the PDS has the record and refuses it again
        post = skeet()
        replay(rsps, "POST", CREATE, "bluesky_record_exists")
        uri = f"at://{DID}/app.bsky.feed.post/{record_key(post)}"
        rsps.add("GET", GET_RECORD, status=200, json={"uri": uri, "cid": "bafy", "value": {"text": post_text(post)}})
        # When published again
        published = publisher().publish(post, connected())
        # Then it is published, nothing posted twice, and the check named our record
        assert published.external_id == uri
        check = rsps.calls[1].request
        assert check.method == "GET"
        assert check.url == (
            f"{GET_RECORD}?repo=did%3Aplc%3Az72i7hdynmk6r22z27h6tvur&collection=app.bsky.feed.post&rkey={record_key(post)}"
        )

    def test_no_answer_in_time_but_the_record_is_there_is_the_post(self, rsps: responses.RequestsMock) -> None:
        post = skeet()
        rsps.add("POST", CREATE, body=requests.exceptions.ReadTimeout("slow"))
        uri = f"at://{DID}/app.bsky.feed.post/{record_key(post)}"
        rsps.add("GET", GET_RECORD, status=200, json={"uri": uri, "cid": "bafy", "value": {"text": post_text(post)}})
        assert publisher().publish(post, connected()).external_id == uri

    def test_no_answer_in_time_and_no_record_is_transient(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", CREATE, body=requests.exceptions.ReadTimeout("slow"))
        replay(rsps, "GET", GET_RECORD, "bluesky_record_not_found")
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.TRANSIENT

    def test_a_record_at_our_key_with_other_text_is_not_our_post(self, rsps: responses.RequestsMock) -> None:
        post = skeet()
        replay(rsps, "POST", CREATE, "bluesky_record_exists")
        rsps.add("GET", GET_RECORD, status=200, json={"uri": "at://x", "value": {"text": "something else"}})
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(post, connected())
        assert failed.value.kind is FailureKind.TRANSIENT

    def test_an_outage_with_no_record_is_transient(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", CREATE, "bluesky_record_exists")
        replay(rsps, "GET", GET_RECORD, "bluesky_record_not_found")
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.TRANSIENT

    def test_an_answer_naming_another_record_is_not_taken_for_ours(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", CREATE, "bluesky_record_created")  # its uri names another key
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.TRANSIENT


class TestFailures:
    @pytest.mark.parametrize("fixture", ["bluesky_expired_token", "bluesky_invalid_token"])
    def test_an_expired_or_revoked_session_is_unauthorized(self, rsps: responses.RequestsMock, fixture: str) -> None:
        replay(rsps, "POST", CREATE, fixture)
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.UNAUTHORIZED
        assert len(rsps.calls) == 1

    def test_rate_limited_waits_until_ratelimit_reset(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", CREATE, "bluesky_rate_limited")
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.RATE_LIMITED
        reset = int(recorded("bluesky_rate_limited")["headers"]["ratelimit-reset"])
        assert failed.value.retry_after_seconds == reset - int(recorded_now("bluesky_rate_limited")) == 119
        assert len(rsps.calls) == 1  # a 429 was never processed: nothing to check

    def test_an_invalid_record_is_rejected_once_checked_absent(self, rsps: responses.RequestsMock) -> None:
        replay(rsps, "POST", CREATE, "bluesky_invalid_request")
        replay(rsps, "GET", GET_RECORD, "bluesky_record_not_found")
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert failed.value.kind is FailureKind.REJECTED
        assert "300 graphemes" in failed.value.reason

    def test_a_hostile_pds_cannot_make_us_leak_the_token(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", CREATE, status=400, json={"error": "InvalidRequest", "message": f"Bearer {TOKEN}"})
        rsps.add("GET", GET_RECORD, status=400, json={"error": "RecordNotFound"})
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected())
        assert TOKEN not in failed.value.reason

    @pytest.mark.parametrize(
        "credentials",
        [None, connected(did=None), connected(did="alice.bsky.social")],
        ids=["not connected", "no account", "a handle, not a DID"],
    )
    def test_no_usable_connection_is_unauthorized_before_any_request(
        self, rsps: responses.RequestsMock, credentials: NetworkCredentials | None
    ) -> None:
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), credentials)
        assert failed.value.kind is FailureKind.UNAUTHORIZED
        assert not rsps.calls

    @pytest.mark.parametrize("pds", ["http://pds.example.com", "https://127.0.0.1", "https://pds.internal"])
    def test_an_unsafe_pds_is_refused_before_any_request(self, rsps: responses.RequestsMock, pds: str) -> None:
        with pytest.raises(PublishFailed) as failed:
            publisher().publish(skeet(), connected(pds=pds))
        assert failed.value.kind is FailureKind.REJECTED
        assert not rsps.calls

    def test_a_pds_resolving_to_a_private_address_gets_nothing(self, rsps: responses.RequestsMock) -> None:
        dns = FakeDns({"morel.us-east.host.bsky.network": [["169.254.169.254"]]})
        with pytest.raises(PublishFailed) as failed:
            BlueskyPublisher(PublicSession(dns)).publish(skeet(), connected())
        assert failed.value.kind is FailureKind.REJECTED
        assert not rsps.calls


# ---------------------------------------------------------------- connecting with an app password
HANDLE = "ada.example.org"
HANDLE_DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
WELL_KNOWN = f"https://{HANDLE}/.well-known/atproto-did"
RESOLVE = "https://public.api.bsky.app/xrpc/com.atproto.identity.resolveHandle"
PLC = f"https://plc.directory/{HANDLE_DID}"
LOGIN = f"{PDS}/xrpc/com.atproto.server.createSession"


def did_document(handle: str = HANDLE, pds: str = PDS) -> dict[str, Any]:
    return {
        "id": HANDLE_DID,
        "alsoKnownAs": [f"at://{handle}"],
        "service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}],
    }


def session_jwt(scope: str, exp: int = 1796036400) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K'})}.{part({'scope': scope, 'sub': HANDLE_DID, 'exp': exp})}.c2ln"


def sessions(**hosts: list[list[str]]) -> BlueskySessions:
    table = {
        HANDLE: [[PUBLIC]],
        "plc.directory": [[PUBLIC]],
        "public.api.bsky.app": [[PUBLIC]],
        "morel.us-east.host.bsky.network": [[PUBLIC]],
        **hosts,
    }
    return BlueskySessions(PublicSession(FakeDns(table)))


def logged_in(scope: str = "com.atproto.appPass") -> dict[str, Any]:
    access, refresh = session_jwt(scope), session_jwt("com.atproto.refresh")
    return {"did": HANDLE_DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh}


class TestSignIn:
    def test_handle_to_did_to_pds_then_a_session_with_the_app_password(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID + "\n", content_type="text/plain")
        rsps.add("GET", PLC, json=did_document())
        rsps.add("POST", LOGIN, json=logged_in())
        session = sessions().login(" @Ada.Example.org", "ABCD-efgh-ijkl-mnop")
        assert sent_json(rsps, 2) == {"identifier": HANDLE_DID, "password": "abcd-efgh-ijkl-mnop"}
        assert (session.member_id, session.server) == (HANDLE_DID, PDS)
        assert session.expires_at == datetime.fromtimestamp(1796036400, UTC)
        assert session.access_token not in repr(session)

    def test_a_handle_published_in_dns_is_resolved_by_the_appview(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, status=404)
        rsps.add("GET", f"{RESOLVE}?handle={HANDLE}", json={"did": HANDLE_DID})
        assert sessions().resolve_handle(HANDLE) == HANDLE_DID

    def test_a_did_document_that_does_not_name_the_handle_is_refused(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID)
        rsps.add("GET", PLC, json=did_document(handle="mallory.example.com"))
        with pytest.raises(ConnectFailed, match="does not confirm"):
            sessions().login(HANDLE, "abcd-efgh-ijkl-mnop")
        assert len(rsps.calls) == 2  # no password was sent

    @pytest.mark.parametrize("pds", ["http://pds.example.net", "https://10.0.0.1", "https://pds.internal"])
    def test_a_pds_chorus_may_not_reach_gets_no_password(self, rsps: responses.RequestsMock, pds: str) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID)
        rsps.add("GET", PLC, json=did_document(pds=pds))
        with pytest.raises(ConnectFailed, match="not one Chorus may reach"):
            sessions().login(HANDLE, "abcd-efgh-ijkl-mnop")

    def test_a_pds_whose_name_leads_to_a_private_address_gets_no_password(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID)
        rsps.add("GET", PLC, json=did_document())
        with pytest.raises(ConnectFailed):
            sessions(**{"morel.us-east.host.bsky.network": [["127.0.0.1"]]}).login(HANDLE, "abcd-efgh-ijkl-mnop")
        assert len(rsps.calls) == 2

    @pytest.mark.parametrize("handle", ["localhost", "ada", "ada.local", "a..b.com", "ada@example.com", ""])
    def test_what_is_not_a_handle_is_refused_before_any_request(
        self, rsps: responses.RequestsMock, handle: str
    ) -> None:
        with pytest.raises(ConnectFailed, match="handle"):
            sessions().login(handle, "abcd-efgh-ijkl-mnop")

    @given(st.text(max_size=40).filter(lambda text: not APP_PASSWORD.match(text.strip().lower())))
    def test_only_the_app_password_shape_is_ever_sent(self, password: str) -> None:
        with responses.RequestsMock() as rsps:
            with pytest.raises(ConnectFailed, match="app password"):
                sessions().login(HANDLE, password)
            assert not rsps.calls

    def test_a_main_password_session_is_ended_and_refused(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID)
        rsps.add("GET", PLC, json=did_document())
        rsps.add("POST", LOGIN, json=logged_in(scope="com.atproto.access"))
        rsps.add("POST", f"{PDS}/xrpc/com.atproto.server.deleteSession", status=200)
        with pytest.raises(ConnectFailed, match="not an app password"):
            sessions().login(HANDLE, "abcd-efgh-ijkl-mnop")
        ended = rsps.calls[3].request
        assert ended.headers["Authorization"] == f"Bearer {logged_in()['refreshJwt']}"

    def test_a_session_for_another_account_is_refused(self, rsps: responses.RequestsMock) -> None:
        rsps.add("GET", WELL_KNOWN, body=HANDLE_DID)
        rsps.add("GET", PLC, json=did_document())
        rsps.add("POST", LOGIN, json={**logged_in(), "did": "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa"})
        with pytest.raises(ConnectFailed, match="another account"):
            sessions().login(HANDLE, "abcd-efgh-ijkl-mnop")

    def test_refresh_sends_the_refresh_token_and_returns_the_rotated_pair(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", f"{PDS}/xrpc/com.atproto.server.refreshSession", json=logged_in())
        session = sessions().refresh(PDS, "old-refresh")
        assert rsps.calls[0].request.headers["Authorization"] == "Bearer old-refresh"
        assert rsps.calls[0].request.body is None
        assert session.refresh_token == logged_in()["refreshJwt"]

    def test_a_refused_refresh_is_connect_failed(self, rsps: responses.RequestsMock) -> None:
        rsps.add("POST", f"{PDS}/xrpc/com.atproto.server.refreshSession", json={"error": "ExpiredToken"}, status=400)
        with pytest.raises(ConnectFailed):
            sessions().refresh(PDS, "old-refresh")
