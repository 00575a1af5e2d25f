"""Content items: what admins upload and employees may choose to share."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from chorus.domain.fields import EndTime, HttpsUrl, Line, NameList, Points, PostText, StartTime
from chorus.domain.networks import Network as Network  # noqa: PLC0414 - re-exported, the name most modules import
from chorus.domain.networks import profile_of, upload_columns
from chorus.errors import FieldProblem

# The shared `text` column, used where a network has no text of its own (the employee may edit it).
DEFAULT_TEXT_LIMIT = 3000
DEFAULT_POINTS = 10
DEFAULT_PUBLISH_POINTS = 10
DEFAULT_CLICK_POINTS = 1
DEFAULT_CLICK_CAP = 20
MAX_POINTS = 1000
_EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")


_POST_TEXT: TypeAdapter[str | None] = TypeAdapter(PostText)


class ContentStatus(StrEnum):
    ACTIVE = "active"
    RETRACTED = "retracted"


def content_id_for(external_id: str | None, url: str, campaign: str) -> str:
    """Stable id: re-uploading the same row (same external id, else same url+campaign) hits the same item."""
    natural_key = f"ext\x00{external_id}" if external_id else f"url\x00{url}\x00{campaign}"
    return "c-" + hashlib.sha256(natural_key.encode()).hexdigest()[:20]


class ContentRow(BaseModel):
    """One row of a content upload, as the admin wrote it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Line = None
    title: Line = None
    url: HttpsUrl = None
    text: PostText = None
    # Each registered network's own text, from its upload column (``text_<network>``).
    texts: dict[Network, str] = Field(default_factory=dict)
    image_url: HttpsUrl = None
    campaign: Line = None
    tags: NameList = Field(default_factory=list)
    groups: NameList = Field(default_factory=list)
    starts_at: StartTime = None
    ends_at: EndTime = None
    points: Points = None
    points_publish: Points = None
    points_click: Points = None
    click_cap: Points = None

    @model_validator(mode="wrap")
    @classmethod
    def _network_columns(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Reads the registered networks' columns into ``texts``, each validated as a post text
        and refused under its own column name, in column order with the other fields' errors."""
        if not isinstance(data, Mapping):
            return handler(data)
        columns = upload_columns()
        errors: list[InitErrorDetails] = []
        texts: dict[Network, str] = {}
        for column, network in columns.items():
            if column not in data:
                continue
            try:
                text = _POST_TEXT.validate_python(data[column])
            except ValidationError as exc:
                errors.extend(_located(exc, (column,)))
                continue
            if text:
                texts[network] = text
        fields = {name: value for name, value in data.items() if name not in columns and name != "texts"}
        try:
            row = handler({**fields, "texts": texts})
        except ValidationError as exc:
            errors.extend(_located(exc, ()))
        if errors:
            order = {name: position for position, name in enumerate(content_columns_in_order())}
            errors.sort(key=lambda error: order.get(str(error["loc"][0]) if error["loc"] else "", -1))
            raise ValidationError.from_exception_data(cls.__name__, errors) from None
        return row

    def problems(self) -> list[FieldProblem]:
        """Rules across fields, checked once each field has parsed."""
        found: list[FieldProblem] = []
        if not self.title:
            found.append(FieldProblem("title", "is required"))
        elif len(self.title) > 200:
            found.append(FieldProblem("title", "is longer than 200 characters"))
        if not self.url:
            found.append(FieldProblem("url", "is required"))
        if self.id is not None and not _EXTERNAL_ID.match(self.id):
            found.append(FieldProblem("id", "may only hold letters, digits and . _ : / - (at most 128)"))
        if not (self.text or self.texts):
            found.append(FieldProblem("text", f"is required (or one of {', '.join(upload_columns())})"))
        if self.text and len(self.text) > DEFAULT_TEXT_LIMIT:
            found.append(FieldProblem("text", f"is {len(self.text)} characters; at most {DEFAULT_TEXT_LIMIT}"))
        for name, network in upload_columns().items():
            value = self.texts.get(network)
            rule = profile_of(network).length_rule
            if value and not rule.fits(value):
                # As the network counts it, leaving room for the link the post carries: what the
                # employee can approve unchanged.
                found.append(
                    FieldProblem(
                        name, f"is {rule.length(value)} characters as {network.value} counts them; at most {rule.room}"
                    )
                )
        if self.campaign and len(self.campaign) > 100:
            found.append(FieldProblem("campaign", "is longer than 100 characters"))
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            found.append(FieldProblem("ends_at", "must be after starts_at"))
        for name in ("points", "points_publish", "points_click", "click_cap"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= MAX_POINTS:
                found.append(FieldProblem(name, f"must be between 0 and {MAX_POINTS}"))
        return found

    def to_entity(self) -> Content:
        if self.problems() or not (self.title and self.url):
            raise ValueError("to_entity() on a row that has problems")
        campaign = self.campaign or ""
        texts = dict(self.texts)
        return Content(
            content_id=content_id_for(self.id, self.url, campaign),
            external_id=self.id,
            title=self.title,
            url=self.url,
            text=self.text or next(iter(texts.values())),
            texts=texts,
            image_url=self.image_url,
            campaign=campaign,
            tags=self.tags,
            groups=self.groups,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            points=DEFAULT_POINTS if self.points is None else self.points,
            points_publish=DEFAULT_PUBLISH_POINTS if self.points_publish is None else self.points_publish,
            points_click=DEFAULT_CLICK_POINTS if self.points_click is None else self.points_click,
            click_cap=DEFAULT_CLICK_CAP if self.click_cap is None else self.click_cap,
        )


def _located(exc: ValidationError, prefix: tuple[str, ...]) -> list[InitErrorDetails]:
    located: list[InitErrorDetails] = []
    for error in exc.errors(include_url=False):
        detail: InitErrorDetails = {"type": error["type"], "loc": (*prefix, *error["loc"]), "input": error["input"]}
        if "ctx" in error:
            detail["ctx"] = error["ctx"]
        located.append(detail)
    return located


def content_columns_in_order() -> list[str]:
    """Every column a content upload understands: the shared text, then each network's own."""
    fields = [name for name in ContentRow.model_fields if name != "texts"]
    after_text = fields.index("text") + 1
    return [*fields[:after_text], *upload_columns(), *fields[after_text:]]


def content_columns() -> frozenset[str]:
    return frozenset(content_columns_in_order())


# The columns a CSV header must have.
CONTENT_REQUIRED_COLUMNS = frozenset({"title", "url"})


class Content(BaseModel):
    """A content item as stored. Status is owned by admins, never by an upload."""

    model_config = ConfigDict(frozen=True)

    content_id: str
    external_id: str | None = None
    title: str
    url: str
    text: str
    texts: dict[Network, str] = Field(default_factory=dict)
    image_url: str | None = None
    campaign: str = ""
    tags: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    # Points an admin sets per item: for the approval, the publication, each unique human click
    # (counted up to click_cap per post).
    points: int = DEFAULT_POINTS
    points_publish: int = DEFAULT_PUBLISH_POINTS
    points_click: int = DEFAULT_CLICK_POINTS
    click_cap: int = DEFAULT_CLICK_CAP
    status: ContentStatus = ContentStatus.ACTIVE
    # Bumped by the store on every write (upload change, retraction): an approval pins one.
    version: int = 0
    # When an upload last changed the item (set by the store).
    updated_at: datetime | None = None

    def text_for(self, network: Network) -> str:
        return self.texts.get(network, self.text)

    def fingerprint(self) -> str:
        """Hash of everything an upload sets: equal fingerprints mean a re-upload changes nothing."""
        uploaded = self.model_dump(mode="json", exclude={"status", "version", "updated_at"})
        canonical = json.dumps(uploaded, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()
