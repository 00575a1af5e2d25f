"""SES v2 SendEmail with a raw MIME message (templates are rendered by us with Jinja2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import ChorusError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client


class EmailError(ChorusError):
    code = "email_error"


class SesEmailSender:
    def __init__(self, client: SESV2Client, *, configuration_set: str | None = None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send_raw(self, sender: str, recipient: str, message: bytes) -> str:
        request: dict[str, object] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": message}},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = self._client.send_email(**request)  # type: ignore[arg-type]
        except ClientError as exc:
            raise EmailError(f"SES refused the message ({exc.response['Error']['Code']})") from exc
        return response.get("MessageId", "")
