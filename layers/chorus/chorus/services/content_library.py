"""The console's content library: find items, read one with its funnel, edit one.

An edit is an upload of one row: the stored item's columns with the admin's changes, checked by
the upload's own rules (ContentRow) and written by the upload's own upsert, which bumps the
version. An approval pins the version it saw, so an approval of the old text never publishes the
edited one: the employee is asked to approve again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from chorus import clock
from chorus.domain.content import Content, ContentRow, content_id_for
from chorus.domain.funnel import Funnel
from chorus.domain.library import LibraryFilter
from chorus.domain.listing import Page
from chorus.domain.networks import upload_columns
from chorus.domain.problems import field_problems
from chorus.errors import Conflict, FieldProblem, InvalidInput
from chorus.observability import logger

# What the console lets an admin change on one item; the rest stays as uploaded.
EDITABLE_FIELDS = ("title", "text", "starts_at", "ends_at", "points")


class Library(Protocol):
    def library_page(
        self, wanted: LibraryFilter, now: datetime, limit: int, start: dict[str, Any] | None = None
    ) -> Page[Content]: ...
    def get_content(self, content_id: str) -> Content: ...


class Funnels(Protocol):
    def funnels(self, content_ids: Sequence[str]) -> dict[str, Funnel]: ...


class _Batch(Protocol):
    def add_contents(self, contents: Sequence[Content]) -> Sequence[str]: ...


class Upserts(Protocol):
    def upsert_batch(self) -> AbstractContextManager[_Batch]: ...


@dataclass(frozen=True)
class ContentDetail:
    content: Content
    funnel: Funnel


def editable_fields() -> tuple[str, ...]:
    """The form's fields: the editable ones and each registered network's own text column."""
    return (*EDITABLE_FIELDS, *upload_columns())


def row_values(content: Content) -> dict[str, Any]:
    """The item as an upload row would state it (what an unchanged edit form posts)."""
    values: dict[str, Any] = {
        "id": content.external_id,
        "title": content.title,
        "url": content.url,
        # The shared text is stored filled in from a network's text when the upload had none.
        "text": content.text,
        "image_url": content.image_url,
        "campaign": content.campaign or None,
        "tags": list(content.tags),
        "groups": list(content.groups),
        "starts_at": content.starts_at.isoformat() if content.starts_at else None,
        "ends_at": content.ends_at.isoformat() if content.ends_at else None,
        "points": content.points,
        "points_publish": content.points_publish,
        "points_click": content.points_click,
        "click_cap": content.click_cap,
    }
    for column, network in upload_columns().items():
        values[column] = content.texts.get(network)
    return values


class ContentLibrary:
    def __init__(
        self, library: Library, funnels: Funnels, upserts: Upserts, *, now: Callable[[], datetime] = clock.now
    ) -> None:
        self._library = library
        self._funnels = funnels
        self._upserts = upserts
        self._now = now

    def page(self, wanted: LibraryFilter, limit: int, start: dict[str, Any] | None = None) -> Page[Content]:
        return self._library.library_page(wanted, self._now(), limit, start)

    def detail(self, content_id: str) -> ContentDetail:
        content = self._library.get_content(content_id)
        return ContentDetail(content, self._funnels.funnels([content_id])[content_id])

    def edit(self, content_id: str, expected_version: int, changes: Mapping[str, str]) -> Content:
        """Writes the changed item through the upload's checks and upsert. InvalidInput lists each
        field's problem; Conflict if the item changed since the form was read."""
        stored = self._library.get_content(content_id)
        if stored.version != expected_version:
            raise Conflict("this item changed since you opened it; review the current version and edit again")
        unknown = set(changes) - set(editable_fields())
        if unknown:
            refused = [FieldProblem(name, "cannot be edited here") for name in sorted(unknown)]
            raise InvalidInput("not editable", refused)
        values = row_values(stored) | {name: value.strip() or None for name, value in changes.items()}
        try:
            row = ContentRow.model_validate(values)
        except ValidationError as exc:
            raise InvalidInput("the item was not changed", field_problems(exc)) from exc
        problems = row.problems()
        if problems:
            raise InvalidInput("the item was not changed", problems)
        edited = row.to_entity()
        if edited.content_id != content_id_for(stored.external_id, stored.url, stored.campaign) or (
            edited.content_id != content_id
        ):
            raise Conflict("this item's identity would change; upload it as a new item instead")
        with self._upserts.upsert_batch() as batch:
            [result] = batch.add_contents([edited])
        logger.info("content edited", content_id=content_id, result=str(result))
        return self._library.get_content(content_id)
