"""The admin API as API Gateway invokes it, behind the JWT authorizer."""

from __future__ import annotations

import json

import pytest

import admin_api_handler
from tests.conftest import BUCKET
from tests.support.http_events import ROOT, http_event
from tests.support.lambda_context import FakeLambdaContext

CSV = "id,title,url,text\nn-1,Office,https://example.com/office,We opened\nn-2,Bad,javascript:x,t\n"


def call(event):
    response = admin_api_handler.lambda_handler(event, FakeLambdaContext())
    body = json.loads(response["body"]) if response.get("body") else None
    return response["statusCode"], body, response


class TestAccess:
    def test_without_claims_is_401(self, aws):
        status, body, _ = call(http_event("GET", "/admin/content", claims=None))
        assert status == 401 and body["error"] == "not_authenticated"

    def test_without_the_admin_group_is_403(self, aws):
        claims = {"sub": "emp-1", "cognito:groups": ["employees"]}
        status, body, _ = call(
            http_event("POST", "/admin/content", body=CSV, headers={"content-type": "text/csv"}, claims=claims)
        )
        assert status == 403 and body["error"] == "forbidden"
        assert aws["dynamodb"].scan(TableName="chorus-test-table")["Count"] == 0

    @pytest.mark.parametrize("groups", [["other", "chorus-admins"], ["chorus-admins"], "chorus-admins"])
    def test_a_genuine_member_is_an_admin(self, aws, groups):
        status, _, _ = call(http_event("GET", "/admin/content", claims={"sub": "a", "cognito:groups": groups}))
        assert status == 200

    @pytest.mark.parametrize(
        "groups",
        [
            ["Friends of chorus-admins"],
            ["sales,chorus-admins"],
            ['"chorus-admins"'],
            ["chorus-admins-readonly"],
            ["Chorus-Admins"],
            "Friends of chorus-admins",
            "sales,chorus-admins",
            '"chorus-admins"',
            "[chorus-admins]",
            [["chorus-admins"]],
            {"chorus-admins": True},
        ],
    )
    def test_a_group_that_only_contains_the_name_is_not_the_admin_group(self, aws, groups):
        """API Gateway passes ["Friends of chorus-admins"] as "[Friends of chorus-admins]": the
        function reads the real array from the token and matches it element by element."""
        event = http_event(
            "POST",
            "/admin/content",
            body=CSV,
            headers={"content-type": "text/csv"},
            claims={"sub": "a", "cognito:groups": groups},
        )
        status, body, _ = call(event)
        assert status == 403 and body["error"] == "forbidden"
        assert aws["dynamodb"].scan(TableName="chorus-test-table")["Count"] == 0

    @pytest.mark.parametrize(
        ("delimiter", "groups", "status"),
        [
            (",", "sales,chorus-admins", 200),
            (",", "sales, chorus-admins", 200),
            (",", "Friends of chorus-admins", 403),
            (",", '"chorus-admins",sales', 403),
            ("space", "sales chorus-admins", 200),
            ("space", "sales,chorus-admins", 403),
            ("|", "sales|chorus-admins", 200),
            ("|", ["Friends of chorus-admins"], 403),  # an array claim is never split
        ],
    )
    def test_a_string_claim_is_split_only_on_the_configured_delimiter(
        self, aws, monkeypatch, delimiter, groups, status
    ):
        monkeypatch.setenv("GROUPS_CLAIM_DELIMITER", delimiter)
        response = call(http_event("GET", "/admin/content", claims={"sub": "a", "cognito:groups": groups}))
        assert response[0] == status

    def test_the_groups_come_from_the_token_the_authorizer_validated(self, aws):
        """Another token in the header than the one the authorizer checked is refused."""
        employee = http_event("GET", "/admin/content", claims={"sub": "emp-1", "cognito:groups": ["employees"]})
        admin = http_event("GET", "/admin/content", claims={"sub": "admin-1", "cognito:groups": ["chorus-admins"]})
        employee["headers"]["authorization"] = admin["headers"]["authorization"]
        status, body, _ = call(employee)
        assert status == 401 and body["error"] == "not_authenticated"

    @pytest.mark.parametrize("sample", sorted((ROOT / "events" / "admin_api").glob("*.json")), ids=lambda p: p.name)
    def test_the_sample_events_are_admin_requests(self, aws, sample):
        """`sam local invoke` has no authorizer: the samples carry the token their claims came from."""
        status, _, _ = call(json.loads(sample.read_text()))
        assert status not in {401, 403}

    @pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer a.b", "Bearer a.!!!.c", "Bearer a.W10.c"])
    def test_claims_without_a_readable_token_are_401(self, aws, authorization):
        event = http_event("GET", "/admin/content")
        if authorization is None:
            del event["headers"]["authorization"]
        else:
            event["headers"]["authorization"] = authorization
        status, body, _ = call(event)
        assert status == 401 and body["error"] == "not_authenticated"


class TestContent:
    def test_post_csv_keeps_good_rows_and_reports_bad_ones(self, aws):
        status, body, response = call(
            http_event("POST", "/admin/content", body=CSV, headers={"content-type": "text/csv; charset=utf-8"})
        )
        assert status == 200
        assert body["status"] == "partial"
        assert body["counts"]["created"] == 1
        assert body["errors"] == [
            {"line": 3, "field": "url", "reason": "must be an https:// URL (got a javascript: URL)"}
        ]
        assert response["headers"]["Cache-Control"] == "no-store"
        # the posted body is kept as an upload with its report beside it
        kept = aws["s3"].get_object(Bucket=BUCKET, Key=body["key"])["Body"].read().decode()
        assert kept == CSV
        assert (
            json.loads(aws["s3"].get_object(Bucket=BUCKET, Key=body["report_key"])["Body"].read())["counts"]
            == body["counts"]
        )

    def test_nothing_valid_is_422_with_field_errors(self, aws):
        rows = json.dumps([{"title": "x", "url": "javascript:alert(1)", "text": "t"}])
        status, body, _ = call(
            http_event("POST", "/admin/content", body=rows, headers={"content-type": "application/json"})
        )
        assert status == 422
        assert body["problems"] == [
            {"field": "line 1: url", "reason": "must be an https:// URL (got a javascript: URL)"}
        ]
        assert body["report"]["status"] == "rejected"

    def test_unknown_media_type_is_415(self, aws):
        status, body, _ = call(
            http_event("POST", "/admin/content", body="x", headers={"content-type": "application/xml"})
        )
        assert status == 415 and "text/csv" in body["message"]

    def test_list_get_and_retract(self, aws):
        call(http_event("POST", "/admin/content", body=CSV, headers={"content-type": "text/csv"}))
        status, listed, _ = call(http_event("GET", "/admin/content"))
        [item] = listed["items"]
        content_id = item["content_id"]
        assert status == 200 and item["title"] == "Office"
        status, one, _ = call(
            http_event(
                "GET",
                f"/admin/content/{content_id}",
                route="/admin/content/{id}",
                path_parameters={"id": content_id},
            )
        )
        assert status == 200 and one["status"] == "active"
        # When an admin retracts it (twice: DELETE is idempotent)
        for _ in range(2):
            status, retracted, _ = call(
                http_event(
                    "DELETE",
                    f"/admin/content/{content_id}",
                    route="/admin/content/{id}",
                    path_parameters={"id": content_id},
                )
            )
            assert status == 200 and retracted["status"] == "retracted"
        # Then it leaves the active listing
        _, listed, _ = call(http_event("GET", "/admin/content"))
        assert listed["items"] == []

    def test_retract_unknown_is_404(self, aws):
        status, body, _ = call(
            http_event(
                "DELETE",
                "/admin/content/c-missing",
                route="/admin/content/{id}",
                path_parameters={"id": "c-missing"},
            )
        )
        assert status == 404 and body["error"] == "not_found"

    def test_paging(self, aws):
        rows = "".join(f"p-{n},T{n},https://example.com/{n},t\n" for n in range(5))
        call(
            http_event(
                "POST",
                "/admin/content",
                body="id,title,url,text\n" + rows,
                headers={"content-type": "text/csv"},
            )
        )
        seen, token = [], None
        while True:
            query = {"limit": "2", **({"next": token} if token else {})}
            status, page, _ = call(http_event("GET", "/admin/content", query=query))
            assert status == 200 and len(page["items"]) <= 2
            seen += [item["external_id"] for item in page["items"]]
            token = page["next"]
            if not token:
                break
        assert sorted(seen) == [f"p-{n}" for n in range(5)]

    @pytest.mark.parametrize(("query", "field"), [({"limit": "0"}, "limit"), ({"next": "%%%"}, "next")])
    def test_bad_paging_is_422(self, aws, query, field):
        status, body, _ = call(http_event("GET", "/admin/content", query=query))
        assert status == 422 and body["problems"][0]["field"] == field


class TestEmployees:
    def test_post_jsonl_roster(self, aws):
        rows = "\n".join(
            json.dumps(row)
            for row in [
                {"email": "Ada@Example.com", "name": "Ada", "groups": ["eng"], "timezone": "Europe/London"},
                {"email": "ada@example.com", "name": "Ada again"},
            ]
        )
        status, body, _ = call(
            http_event("POST", "/admin/employees", body=rows, headers={"content-type": "application/x-ndjson"})
        )
        assert status == 200
        assert body["kind"] == "employees"
        assert body["counts"]["created"] == 1
        assert body["errors"][0]["reason"] == "duplicate of line 1 (same email); not imported"


class TestUploads:
    def test_presigned_put_for_a_new_key(self, aws):
        status, body, _ = call(
            http_event(
                "POST",
                "/admin/uploads",
                body=json.dumps({"kind": "employees", "filename": "../Q4 roster.csv"}),
            )
        )
        assert status == 201
        assert body["key"].startswith("uploads/employees/") and body["key"].endswith("-Q4-roster.csv")
        assert body["report_key"] == f"reports/{body['key']}.json"
        assert body["method"] == "PUT" and "X-Amz-Signature" in body["upload_url"]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"kind": "roster", "filename": "a.csv"}, "kind"),
            ({"kind": "content", "filename": "a.xlsx"}, "filename"),
            ({"kind": "content"}, "filename"),
        ],
    )
    def test_bad_upload_request_is_422(self, aws, payload, field):
        status, body, _ = call(http_event("POST", "/admin/uploads", body=json.dumps(payload)))
        assert status == 422
        assert [p["field"] for p in body["problems"]] == [field]

    def test_a_body_that_is_not_json_is_422_naming_the_body(self, aws):
        # The router reads the body into its model (enable_validation); our error shape is kept.
        status, body, _ = call(http_event("POST", "/admin/uploads", body="{kind: content"))
        assert status == 422 and body["error"] == "invalid_input"
        assert body["problems"][0]["reason"] == "JSON decode error"

    def test_a_body_sent_as_text_is_415(self, aws):
        event = http_event(
            "POST",
            "/admin/uploads",
            body=json.dumps({"kind": "content", "filename": "a.csv"}),
            headers={"content-type": "text/plain"},
        )
        status, body, _ = call(event)
        assert status == 415 and body["error"] == "unsupported_media_type"

    def test_report_by_upload_key(self, aws):
        _, posted, _ = call(http_event("POST", "/admin/content", body=CSV, headers={"content-type": "text/csv"}))
        path = f"/admin/reports/{posted['key']}"
        status, report, _ = call(
            http_event("GET", path, route="/admin/reports/{key+}", path_parameters={"key": posted["key"]})
        )
        assert status == 200 and report["counts"] == posted["counts"]

    def test_missing_report_is_404(self, aws):
        status, body, _ = call(
            http_event(
                "GET",
                "/admin/reports/uploads/content/x.csv",
                route="/admin/reports/{key+}",
                path_parameters={"key": "uploads/content/x.csv"},
            )
        )
        assert status == 404 and "no report" in body["message"]
