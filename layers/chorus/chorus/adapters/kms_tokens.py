"""Social tokens at rest: KMS-encrypted, bound to one employee and one network.

The encryption context (employee + network) must match on decrypt, so a ciphertext copied to
another employee's record cannot be opened, and CloudTrail shows whose token was used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from chorus.errors import ChorusError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient


class VaultError(ChorusError):
    code = "vault_error"


class TokenVault:
    def __init__(self, client: KMSClient, key_id: str) -> None:
        self._client = client
        self._key_id = key_id

    @staticmethod
    def _context(employee_id: str, network: str) -> dict[str, str]:
        return {"employee_id": employee_id, "network": network}

    def seal(self, plaintext: bytes, employee_id: str, network: str) -> bytes:
        try:
            response = self._client.encrypt(
                KeyId=self._key_id, Plaintext=plaintext, EncryptionContext=self._context(employee_id, network)
            )
        except ClientError as exc:
            raise VaultError("could not encrypt the token") from exc
        return response["CiphertextBlob"]

    def open(self, ciphertext: bytes, employee_id: str, network: str) -> bytes:
        try:
            response = self._client.decrypt(
                CiphertextBlob=ciphertext, KeyId=self._key_id, EncryptionContext=self._context(employee_id, network)
            )
        except ClientError as exc:
            raise VaultError("could not decrypt the token") from exc
        return response["Plaintext"]
