"""S3 access for uploads and their reports, with SDK errors translated at this boundary."""

from __future__ import annotations

import io
from collections.abc import Buffer, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import NotFound, ObjectStoreError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

STREAM_CHUNK_BYTES = 1024 * 1024
# Parts of a streamed upload: S3 takes 5 MiB to 5 GiB a part and 10,000 parts, so up to 80 GiB.
UPLOAD_PART_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class ObjectVersion:
    key: str
    version_id: str


class StreamedUpload(io.RawIOBase):
    """A write-only binary stream whose bytes become one S3 object: a multipart upload begun with the
    first full part; an object smaller than one part is a single PutObject."""

    def __init__(self, client: S3Client, bucket: str, key: str, content_type: str) -> None:
        self._client = client
        self._bucket = bucket
        self._key = key
        self._content_type = content_type
        self._pending = bytearray()
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self.size = 0  # bytes written so far

    def writable(self) -> bool:
        return True

    def write(self, data: Buffer) -> int:
        chunk = memoryview(data).cast("B")
        self._pending += chunk
        self.size += len(chunk)
        while len(self._pending) >= UPLOAD_PART_BYTES:
            self._send_part(bytes(self._pending[:UPLOAD_PART_BYTES]))
            del self._pending[:UPLOAD_PART_BYTES]
        return len(chunk)

    def complete(self) -> None:
        where = f"s3://{self._bucket}/{self._key}"
        try:
            if self._upload_id is None:
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._pending), ContentType=self._content_type
                )
                return
            if self._pending:
                self._send_part(bytes(self._pending))
                self._pending.clear()
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
            )
        except ClientError as exc:
            raise ObjectStoreError(f"could not write {where}") from exc

    def abort(self) -> None:
        """Drops the parts sent (S3 would otherwise keep and bill them); nothing to do if none was."""
        if self._upload_id is None:
            return
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        except ClientError as exc:
            raise ObjectStoreError(f"could not abort the upload of s3://{self._bucket}/{self._key}") from exc

    def _send_part(self, part: bytes) -> None:
        try:
            if self._upload_id is None:
                started = self._client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._key, ContentType=self._content_type
                )
                self._upload_id = started["UploadId"]
            number = len(self._parts) + 1
            sent = self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
        except ClientError as exc:
            raise ObjectStoreError(f"could not write s3://{self._bucket}/{self._key}") from exc
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})


class ObjectStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def open(self, key: str, version_id: str | None = None) -> StoredObject:
        """Opens an object for streaming; the body is read lazily in 1 MiB chunks."""
        request = {"Bucket": self.bucket, "Key": key}
        if version_id:
            request["VersionId"] = version_id
        try:
            response = self._client.get_object(**request)  # type: ignore[arg-type]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"NoSuchKey", "NoSuchVersion", "404"}:
                raise NotFound(f"s3://{self.bucket}/{key} does not exist") from exc
            raise ObjectStoreError(f"could not read s3://{self.bucket}/{key}") from exc
        body = response["Body"]
        return StoredObject(key=key, size=response["ContentLength"], chunks=body.iter_chunks(STREAM_CHUNK_BYTES))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except ClientError as exc:
            raise ObjectStoreError(f"could not write s3://{self.bucket}/{key}") from exc

    def read(self, key: str) -> bytes:
        stored = self.open(key)
        return b"".join(stored.chunks)

    def versions(self, prefix: str) -> Iterator[ObjectVersion]:
        """Every stored version of every object under ``prefix`` (a versioned bucket keeps
        overwritten and deleted objects as older versions), page by page."""
        paginator = self._client.get_paginator("list_object_versions")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for version in page.get("Versions", []):
                    yield ObjectVersion(version["Key"], version["VersionId"])
        except ClientError as exc:
            raise ObjectStoreError(f"could not list s3://{self.bucket}/{prefix}") from exc

    def delete_version(self, key: str, version_id: str) -> None:
        """Deletes one version for good (not a delete marker); one already gone counts as done."""
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        except ClientError as exc:
            raise ObjectStoreError(f"could not delete s3://{self.bucket}/{key}") from exc

    def presigned_put(self, key: str, content_type: str, expires_in: int) -> str:
        try:
            return self._client.generate_presigned_url(
                "put_object",
                Params={"Bucket": self.bucket, "Key": key, "ContentType": content_type},
                ExpiresIn=expires_in,
                HttpMethod="PUT",
            )
        except ClientError as exc:
            raise ObjectStoreError("could not sign an upload URL") from exc

    def presigned_post(
        self, key: str, *, max_bytes: int, redirect_url: str, expires_in: int
    ) -> tuple[str, dict[str, str]]:
        """A browser form's action and fields: one object at ``key`` (a trailing ${filename}
        becomes the sent file's name, under the key's prefix), at most ``max_bytes``, then a 303
        to ``redirect_url``."""
        try:
            signed = self._client.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"success_action_redirect": redirect_url},
                Conditions=[{"success_action_redirect": redirect_url}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_in,
            )
        except ClientError as exc:
            raise ObjectStoreError("could not sign an upload form") from exc
        return signed["url"], {name: str(value) for name, value in signed["fields"].items()}

    @contextmanager
    def upload_stream(self, key: str, content_type: str) -> Iterator[StreamedUpload]:
        """A binary stream into ``key``, sent in UPLOAD_PART_BYTES parts as it fills: an export of
        any size passes through memory one part at a time, never whole, nor through /tmp. The object
        exists once the block ends without an error; an error aborts the upload (no part is kept)."""
        upload = StreamedUpload(self._client, self.bucket, key, content_type)
        try:
            yield upload
            upload.complete()
        except BaseException:
            upload.abort()
            raise

    def presigned_get(self, key: str, expires_in: int, filename: str) -> str:
        """A link that downloads the object as ``filename`` until it expires."""
        try:
            return self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'attachment; filename="{filename}"',
                },
                ExpiresIn=expires_in,
                HttpMethod="GET",
            )
        except ClientError as exc:
            raise ObjectStoreError("could not sign a download URL") from exc
