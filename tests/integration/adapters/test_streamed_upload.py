"""Export files streamed to S3 (on moto): the bytes arrive exactly, in parts past 8 MiB, and a
failure while writing leaves neither an object nor an unfinished upload behind."""

from __future__ import annotations

import hashlib

import pytest

from chorus.adapters.s3_objects import UPLOAD_PART_BYTES, ObjectStore
from tests.conftest import BUCKET


@pytest.fixture
def store(aws) -> ObjectStore:
    return ObjectStore(aws["s3"], BUCKET)


@pytest.fixture
def requests_made(aws) -> list[str]:
    made: list[str] = []
    aws["s3"].meta.events.register("before-call.s3", lambda model, **_: made.append(model.name))
    return made


def test_a_file_larger_than_a_part_arrives_whole_in_parts(aws, store, requests_made) -> None:
    # Given two and a half parts of bytes that differ from one part to the next, written in odd sizes
    line = b"".join(f"row {n:07d},=text \xe2\x80\x94 \n".encode() for n in range(1_000))
    body = (line * (UPLOAD_PART_BYTES * 5 // 2 // len(line) + 1))[: UPLOAD_PART_BYTES * 5 // 2]

    # When it is streamed
    with store.upload_stream("exports/big.csv", "text/csv; charset=utf-8") as upload:
        for start in range(0, len(body), 999_983):
            upload.write(body[start : start + 999_983])

    # Then it was sent as three parts of one multipart upload, and S3 holds exactly those bytes
    sent = list(requests_made)
    stored = aws["s3"].get_object(Bucket=BUCKET, Key="exports/big.csv")
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == hashlib.sha256(body).hexdigest()
    assert stored["ContentType"] == "text/csv; charset=utf-8"
    assert upload.size == len(body)
    assert sent == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ]


def test_a_file_smaller_than_a_part_is_one_put(aws, store, requests_made) -> None:
    with store.upload_stream("exports/small.jsonl", "application/x-ndjson") as upload:
        upload.write(b'{"text": "Caf\xc3\xa9"}\n')

    assert requests_made == ["PutObject"]
    assert aws["s3"].get_object(Bucket=BUCKET, Key="exports/small.jsonl")["Body"].read() == b'{"text": "Caf\xc3\xa9"}\n'


def test_an_empty_file_is_an_empty_object(aws, store) -> None:
    with store.upload_stream("exports/empty.csv", "text/csv"):
        pass

    assert aws["s3"].head_object(Bucket=BUCKET, Key="exports/empty.csv")["ContentLength"] == 0


def test_a_failure_while_writing_leaves_no_object_and_no_unfinished_upload(aws, store) -> None:
    # Given a part already sent, when the rows fail midway
    failing = pytest.raises(RuntimeError, match="the ledger could not be read")
    with failing, store.upload_stream("exports/broken.csv", "text/csv") as upload:
        upload.write(b"x" * (UPLOAD_PART_BYTES + 1))
        raise RuntimeError("the ledger could not be read")

    # Then there is no object, and S3 keeps no parts (it would bill them)
    assert "Contents" not in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="exports/broken")
    assert aws["s3"].list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
