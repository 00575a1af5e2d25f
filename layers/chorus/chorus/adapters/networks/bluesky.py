"""Bluesky: an `app.bsky.feed.post` record written with `com.atproto.repo.createRecord` on the
employee's PDS (https://docs.bsky.app/docs/api/com-atproto-repo-create-record).

The record is the approved text, a blank line and the tracked link as written; each http(s)
link in it gets a `app.bsky.richtext.facet#link` whose `byteStart`/`byteEnd` are UTF-8 byte
offsets into the text (https://docs.bsky.app/docs/advanced-guides/post-richtext), so the
bytes the facet covers are the link, whatever emoji, CJK or combining marks precede it. The
link also gets an `app.bsky.embed.external` card (uri, title, description and, when the
content has an image that fits the lexicon's 1,000,000-byte `thumb`, a blob uploaded with
`com.atproto.repo.uploadBlob`; a thumb that cannot be had is left out, never the post).
`langs` is the employee's language; `createdAt` is the attempt's start.

Exactly once: the record key is a TID (https://atproto.com/specs/tid) derived from the attempt
(its start, and a clock id from the idempotency key), so a repeat of the request names the same
record. A record key that exists already is refused (today with a 500, soon with an explicit
error), and any refusal that is not plainly about the request itself, or no answer in time, is
checked with `com.atproto.repo.getRecord`: a record at our key with our text is the post,
published. (A write still in flight when that check runs is not seen; the next attempt has a
key of its own. That window is the one residual way to post twice.)

The PDS is employee-chosen (self-hosted ones exist): it passes `validate_instance_url` and every
request goes through a `PublicSession` (egress.py), as for Mastodon. So does fetching the image.
Rate limits: `ratelimit-reset` is epoch seconds (https://docs.bsky.app/docs/advanced-guides/
rate-limits). An expired or revoked session (401, or 400 `ExpiredToken`/`InvalidToken`) is
UNAUTHORIZED: one refresh, then the employee is asked to reconnect.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from chorus.adapters.networks.dpop import DpopKey, DpopNonces, send_with_dpop
from chorus.adapters.networks.egress import PublicSession
from chorus.adapters.networks.http import (
    DEFAULT_TIMEOUT,
    Clock,
    CredentialsLike,
    Timeout,
    classify,
    encode_json,
    failure,
    json_body,
    network_message,
    require_token,
    seconds_from_retry_after,
    seconds_until_epoch,
    send,
    validate_instance_url,
)
from chorus.clock import timestamp
from chorus.domain.connection import AppPasswordSession, ConnectFailed
from chorus.domain.lengths import BLUESKY_MAX_BYTES, grapheme_count, url_spans
from chorus.domain.networks import Network, profile_of
from chorus.domain.publishing import FailureKind, PostRequest, Published, PublishFailed
from chorus.observability import logger

NETWORK = "bluesky"
COLLECTION = "app.bsky.feed.post"
LENGTH_RULE = profile_of(Network.BLUESKY).length_rule
# app.bsky.embed.external#external.thumb: image/*, at most 1,000,000 bytes.
THUMB_MAX_BYTES = 1_000_000
THUMB_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
# Fetching the thumb must not hold the post up: a short wait, and the post goes without it.
THUMB_TIMEOUT: Timeout = (2.0, 5.0)
# What a PDS answers for a session it no longer accepts (400 or 401).
_SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing", "AuthenticationRequired"})
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------- the record


def tid(microseconds: int, clock_id: int) -> str:
    """A TID: 64 bits (top bit 0, 53 bits of microseconds since the epoch, 10 bits of clock
    id) in base32-sortable, 13 characters."""
    if not 0 <= microseconds < 1 << 53 or not 0 <= clock_id < 1 << 10:
        raise ValueError("out of a TID's range")
    number = (microseconds << 10) | clock_id
    return "".join(_TID_ALPHABET[(number >> shift) & 31] for shift in range(60, -1, -5))


def record_key(post: PostRequest) -> str:
    """The same for every repeat of one attempt: the second it started (what the approval record
    keeps of it), then microseconds and a clock id drawn from the post's key, so that two posts
    of one account started in the same second still differ."""
    started = _started(post)
    digest = int.from_bytes(hashlib.sha256(post.idempotency_key.encode()).digest()[:8], "big")
    return tid(int(started.timestamp()) * 1_000_000 + digest % 1_000_000, (digest >> 32) % 1024)


def post_text(post: PostRequest) -> str:
    """The approved text, byte for byte, then a blank line and the link as written."""
    return LENGTH_RULE.compose(post.text, post.link)


def link_facets(text: str) -> list[dict[str, Any]]:
    """A link facet for each http(s) URL in the text, at its UTF-8 byte offsets."""
    facets = []
    for start, end in url_spans(text, without_protocol=False):
        byte_start = len(text[:start].encode("utf-8"))
        byte_end = byte_start + len(text[start:end].encode("utf-8"))
        facets.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {"byteStart": byte_start, "byteEnd": byte_end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": text[start:end]}],
            }
        )
    return facets


def language_tags(locale: str | None) -> list[str]:
    """The employee's locale as a BCP 47 tag ("fr", "en-GB"); none when it is not one."""
    if not locale:
        return []
    tag = locale.replace("_", "-")
    parts = tag.split("-")
    if not (2 <= len(parts[0]) <= 3 and parts[0].isalpha() and parts[0].isascii()):
        return []
    if not all(part.isalnum() and part.isascii() and 1 <= len(part) <= 8 for part in parts[1:]):
        return []
    return [tag]


def post_record(post: PostRequest, thumb: Mapping[str, Any] | None = None) -> dict[str, Any]:
    text = post_text(post)
    record: dict[str, Any] = {"$type": COLLECTION, "text": text, "createdAt": _iso(_started(post))}
    facets = link_facets(text)
    if facets:
        record["facets"] = facets
    langs = language_tags(post.locale)
    if langs:
        record["langs"] = langs
    if post.link:
        external: dict[str, Any] = {"uri": post.link, "title": post.title, "description": post.description}
        if thumb is not None:
            external["thumb"] = dict(thumb)
        record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
    return record


def _started(post: PostRequest) -> datetime:
    """The attempt's start to the second: the approval record keeps no finer, and a repeat of
    the attempt must send the same record."""
    if post.created_at is None:
        raise ValueError("a Bluesky post needs the attempt's start (PostRequest.created_at)")
    return post.created_at.astimezone(UTC).replace(microsecond=0)


def _iso(when: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and a Z, as the atproto datetime format recommends."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def rate_limit_wait(response: requests.Response, now: float) -> int | None:
    wait = seconds_until_epoch(response.headers.get("ratelimit-reset"), now)
    return wait if wait is not None else seconds_from_retry_after(response.headers.get("Retry-After"), now)


def xrpc_error(response: requests.Response) -> str:
    body = json_body(response)
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, str) else ""


# ---------------------------------------------------------------- publishing


class BlueskyPublisher:
    def __init__(
        self,
        session: PublicSession | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        clock: Clock = timestamp,
    ) -> None:
        self._session = session if session is not None else PublicSession()
        self._timeout = timeout
        self._clock = clock
        # Each PDS's latest DPoP nonce, kept while the function is warm.
        self._nonces = DpopNonces()

    def publish(self, post: PostRequest, credentials: CredentialsLike | None) -> Published:
        token = require_token(credentials, NETWORK)
        auth = _Auth(token, credentials.dpop_key if credentials is not None else None)
        pds = validate_instance_url(credentials.instance_url if credentials is not None else None, NETWORK)
        did = credentials.member_id if credentials is not None else None
        if not did or not did.startswith("did:"):
            raise PublishFailed(FailureKind.UNAUTHORIZED, f"{NETWORK}: the connection has no account, reconnect")
        text = post_text(post)
        graphemes, size = grapheme_count(text), len(text.encode("utf-8"))
        if graphemes > LENGTH_RULE.limit or size > BLUESKY_MAX_BYTES:
            raise PublishFailed(
                FailureKind.REJECTED,
                f"{NETWORK}: the post is {graphemes} characters ({size} bytes); Bluesky allows 300 (3,000 bytes)",
            )
        rkey = record_key(post)
        thumb = self._thumb(pds, auth, post.image_url)
        body = {"repo": did, "collection": COLLECTION, "rkey": rkey, "record": post_record(post, thumb)}
        try:
            response = self._xrpc(pds, auth, "POST", "com.atproto.repo.createRecord", body=encode_json(body, NETWORK))
        except PublishFailed as failed:
            # No answer in time: the PDS may have written it. The next attempt has a key of its
            # own, so the record must be looked for now, not then.
            existing = (
                self._existing(pds, auth, did, rkey, post_text(post)) if failed.kind is FailureKind.TRANSIENT else None
            )
            if existing is None:
                raise
            return existing
        if 200 <= response.status_code < 300:
            return _published(json_body(response), did, rkey)
        error = xrpc_error(response)
        if response.status_code == 401 or error in _SESSION_ERRORS:
            raise failure(FailureKind.UNAUTHORIZED, NETWORK, network_message(response), token)
        if response.status_code != 429:
            existing = self._existing(pds, auth, did, rkey, text)
            if existing is not None:
                logger.info("bluesky record already there; the earlier attempt posted it", rkey=rkey)
                return existing
        raise classify(response, network=NETWORK, token=token, retry_after=rate_limit_wait(response, self._clock()))

    def _xrpc(
        self,
        pds: str,
        auth: _Auth,
        method: str,
        name: str,
        *,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> requests.Response:
        """One XRPC call: with an app-password session's bearer token, or with an OAuth session's
        DPoP-bound token and a proof naming it (``ath``) and the PDS's nonce."""
        url = f"{pds}/xrpc/{name}"
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        if auth.dpop_key is None:
            headers["Authorization"] = f"Bearer {auth.token}"
            return send(self._session, method, url, network=NETWORK, timeout=self._timeout, headers=headers, body=body)
        headers["Authorization"] = f"DPoP {auth.token}"
        return send_with_dpop(
            self._session,
            self._nonces,
            DpopKey(auth.dpop_key),
            method,
            url,
            headers=headers,
            body=body,
            network=NETWORK,
            timeout=self._timeout,
            now=lambda: datetime.fromtimestamp(self._clock(), UTC),
            access_token=auth.token,
        )

    def _existing(self, pds: str, auth: _Auth, did: str, rkey: str, text: str) -> Published | None:
        """The post, if a record with our text is at our key; None if not (or if unknowable:
        the refusal then stands as the network gave it)."""
        query = f"repo={quote(did, safe='')}&collection={COLLECTION}&rkey={rkey}"
        try:
            response = self._xrpc(pds, auth, "GET", f"com.atproto.repo.getRecord?{query}")
        except PublishFailed:
            return None
        body = json_body(response) if response.status_code == 200 else None
        value = body.get("value") if isinstance(body, Mapping) else None
        if not isinstance(value, Mapping) or value.get("text") != text:
            return None
        return _published(body, did, rkey)

    def _thumb(self, pds: str, auth: _Auth, image_url: str | None) -> Mapping[str, Any] | None:
        """The uploaded thumb's blob, or None (no image, too large, not an image, any failure)."""
        if not image_url or not image_url.startswith("https://"):
            return None
        try:
            image = self._session.get(image_url, timeout=THUMB_TIMEOUT, stream=True, allow_redirects=False)
            try:
                mime = image.headers.get("Content-Type", "").split(";")[0].strip().lower()
                declared = image.headers.get("Content-Length", "")
                if image.status_code != 200 or mime not in THUMB_TYPES:
                    return None
                if declared.isdigit() and int(declared) > THUMB_MAX_BYTES:
                    return None
                data = b""
                for chunk in image.iter_content(64 * 1024):
                    data += chunk
                    if len(data) > THUMB_MAX_BYTES:  # the header lied, or there was none
                        return None
            finally:
                image.close()
        except (requests.RequestException, OSError):
            logger.info("bluesky thumb not fetched; the card goes without it")
            return None
        try:
            response = self._xrpc(pds, auth, "POST", "com.atproto.repo.uploadBlob", body=data, content_type=mime)
        except PublishFailed:
            return None
        body = json_body(response) if response.status_code == 200 else None
        blob = body.get("blob") if isinstance(body, Mapping) else None
        if not isinstance(blob, Mapping) or blob.get("$type") != "blob":
            logger.info("bluesky thumb not uploaded; the card goes without it", status=response.status_code)
            return None
        return blob


@dataclass(frozen=True)
class _Auth:
    token: str = field(repr=False)
    # An OAuth session's private DPoP key (JWK); None for an app-password session's bearer token.
    dpop_key: str | None = field(repr=False)


def _published(body: Any, did: str, rkey: str) -> Published:
    uri = body.get("uri") if isinstance(body, Mapping) else None
    expected = f"at://{did}/{COLLECTION}/{rkey}"
    if uri != expected:
        # The record is ours by its key whatever the answer says; a retry meets it and confirms.
        raise PublishFailed(FailureKind.TRANSIENT, f"{NETWORK}: success without the record's uri")
    return Published(external_id=expected, url=f"https://bsky.app/profile/{did}/post/{rkey}")


# ---------------------------------------------------------------- connecting with an app password
# AT Protocol OAuth (PAR, PKCE, DPoP: bluesky_oauth.py) is what Bluesky recommends and what the
# connect page offers first; the fallback is an app password (Settings > Privacy and security >
# App passwords), which can post but cannot change the account, and which they can revoke on its own. A main password is
# never sent: only the app-password shape is accepted, and a session that is not an app
# password's (its token's scope says so) is ended at once and refused.

APP_PASSWORD = re.compile(r"^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$")
HANDLE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
DID = re.compile(r"^did:(plc:[a-z2-7]{24}|web:[a-z0-9.-]{1,253})$")
PLC_DIRECTORY = "https://plc.directory"
# Resolves a handle whatever way it is published (DNS TXT or HTTPS): the Lambda has no TXT lookup.
APPVIEW = "https://public.api.bsky.app"
APP_PASSWORD_SCOPES = frozenset({"com.atproto.appPass", "com.atproto.appPassPrivileged"})
# Signing in runs in the web function (25 s): up to five calls in a row (the handle's host, the
# AppView, the DID directory, the PDS, and ending a refused session) must fit in it.
IDENTITY_TIMEOUT: Timeout = (2.0, 3.0)
# The handle's own host is often no web server at all (handles published in DNS): asked briefly.
WELL_KNOWN_TIMEOUT: Timeout = (1.5, 2.0)


def normalise_handle(raw: str) -> str:
    handle = raw.strip().removeprefix("@").lower()
    if not HANDLE.match(handle) or handle.endswith((".local", ".localhost", ".internal", ".arpa", ".invalid")):
        raise ConnectFailed("enter your Bluesky handle, like alice.bsky.social")
    return handle


def token_claims(jwt: str) -> dict[str, Any]:
    """The payload of a JWT the PDS just gave us over TLS (read, not verified: it is our own
    session's token, and the PDS verifies it on every use)."""
    try:
        payload = jwt.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise ConnectFailed("Bluesky answered with a session Chorus cannot read; try again") from exc
    return decoded if isinstance(decoded, dict) else {}


class BlueskySessions:
    """Handle -> DID -> PDS, then an app-password session on that PDS, and its refresh. Every
    request goes through the SSRF guard: handles, DID documents and PDSes are the employee's."""

    def __init__(self, session: PublicSession | None = None, timeout: Timeout = IDENTITY_TIMEOUT) -> None:
        self._session = session if session is not None else PublicSession()
        self._timeout = timeout

    def login(self, raw_handle: str, app_password: str) -> AppPasswordSession:
        handle = normalise_handle(raw_handle)
        password = app_password.strip().lower()
        if not APP_PASSWORD.match(password):
            raise ConnectFailed("that is not an app password (xxxx-xxxx-xxxx-xxxx); never enter your main password")
        did = self.resolve_handle(handle)
        pds = self.pds_of(did, handle)
        response = self._call(
            "POST", f"{pds}/xrpc/com.atproto.server.createSession", {"identifier": did, "password": password}
        )
        session = self._session_from(response, pds, expected_did=did)
        scope = token_claims(session.access_token).get("scope")
        if scope not in APP_PASSWORD_SCOPES:
            self._end(session)
            raise ConnectFailed("that was not an app password: create one in Bluesky's settings and use it here")
        return session

    def refresh(self, server: str, refresh_token: str) -> AppPasswordSession:
        """A new pair (the refresh token rotates: the old one is spent)."""
        try:
            pds = validate_instance_url(server, NETWORK)
        except PublishFailed as exc:
            raise ConnectFailed("the stored Bluesky server is not one Chorus may reach; reconnect") from exc
        response = self._call("POST", f"{pds}/xrpc/com.atproto.server.refreshSession", None, token=refresh_token)
        return self._session_from(response, pds, expected_did=None)

    def resolve_handle(self, handle: str) -> str:
        for url in (f"https://{handle}/.well-known/atproto-did", None):
            if url is None:
                body = json_body(
                    self._call("GET", f"{APPVIEW}/xrpc/com.atproto.identity.resolveHandle?handle={handle}")
                )
                did = body.get("did") if isinstance(body, Mapping) else None
            else:
                try:
                    answer = self._call("GET", url, timeout=WELL_KNOWN_TIMEOUT)
                except ConnectFailed:
                    continue
                did = answer.text.strip() if answer.status_code == 200 else None
            if isinstance(did, str) and DID.match(did):
                return did
        raise ConnectFailed(f"{handle} is not a Bluesky handle Chorus can find")

    def pds_of(self, did: str, handle: str | None) -> str:
        """The PDS the DID document names, once the document confirms the handle (both ways);
        with no handle (an OAuth token's ``sub``), the PDS the DID names, whatever its handle."""
        if not DID.match(did):
            raise ConnectFailed("Bluesky named an account Chorus cannot look up")
        if did.startswith("did:plc:"):
            url = f"{PLC_DIRECTORY}/{did}"
        else:
            url = f"https://{did.removeprefix('did:web:')}/.well-known/did.json"
        document = json_body(self._call("GET", url))
        if not isinstance(document, Mapping) or (
            handle is not None and f"at://{handle}" not in (document.get("alsoKnownAs") or [])
        ):
            raise ConnectFailed(f"the account of {handle or did} does not confirm that handle")
        for service in document.get("service") or []:
            if isinstance(service, Mapping) and str(service.get("id", "")).endswith("#atproto_pds"):
                endpoint = service.get("serviceEndpoint")
                try:
                    return validate_instance_url(endpoint if isinstance(endpoint, str) else None, NETWORK)
                except PublishFailed as exc:
                    raise ConnectFailed(f"the server of {handle} is not one Chorus may reach") from exc
        raise ConnectFailed(f"the account of {handle} names no server")

    def _session_from(self, response: requests.Response, pds: str, expected_did: str | None) -> AppPasswordSession:
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, Mapping):
            error = xrpc_error(response)
            if error in {"AuthFactorTokenRequired", "AccountTakedown"}:
                raise ConnectFailed("Bluesky refused this sign-in for this account; check it in the Bluesky app")
            raise ConnectFailed("Bluesky refused the handle or app password; check both, or create a new app password")
        access, refresh, did = body.get("accessJwt"), body.get("refreshJwt"), body.get("did")
        if not (isinstance(access, str) and isinstance(refresh, str) and isinstance(did, str) and DID.match(did)):
            raise ConnectFailed("Bluesky answered without a session; try again")
        if expected_did is not None and did != expected_did:
            raise ConnectFailed("the server answered for another account; nothing was stored")
        expires = token_claims(access).get("exp")
        expires_at = datetime.fromtimestamp(expires, UTC) if isinstance(expires, int) else None
        return AppPasswordSession(
            member_id=did, server=pds, access_token=access, refresh_token=refresh, expires_at=expires_at
        )

    def _end(self, session: AppPasswordSession) -> None:
        try:
            self._call(
                "POST", f"{session.server}/xrpc/com.atproto.server.deleteSession", None, token=session.refresh_token
            )
        except ConnectFailed:
            logger.warning("bluesky session not ended")

    def _call(
        self,
        method: str,
        url: str,
        payload: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        timeout: Timeout | None = None,
    ) -> requests.Response:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            return send(
                self._session,
                method,
                url,
                network=NETWORK,
                timeout=timeout or self._timeout,
                headers=headers,
                body=encode_json(payload, NETWORK) if payload is not None else None,
            )
        except PublishFailed as exc:
            raise ConnectFailed(f"Bluesky could not be reached ({exc.kind.value}); try again") from exc
