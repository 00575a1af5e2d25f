"""Every redemption, still to hand over and fulfilled, with the employee's name and address (the
rewards page shows them: whoever hands rewards over needs them), as CSV and JSON Lines. Read page
by page through RewardService, the rewards page's own listing; redemptions fulfilled before the
fulfilled listing existed are not in it (store/rewards.py)."""

from __future__ import annotations

from typing import IO, Any

from chorus.domain.exports import REDEMPTION_COLUMNS, RowWriter, export_targets, redemption_row
from chorus.domain.points_report import Export, ExportKind
from chorus.domain.rewards import RedemptionStatus
from chorus.services.rewards import RewardService

# Redemptions per page: their contacts are one BatchGetItem of up to 100 keys.
PAGE = 100


class RedemptionExport:
    def __init__(self, rewards: RewardService) -> None:
        self._rewards = rewards

    def targets(self, export: Export) -> dict[str, tuple[str, str, str]]:
        return export_targets(ExportKind.REDEMPTIONS, export.export_id, f"{export.requested_at:%Y-%m-%d}")

    def write(self, export: Export, csv_out: IO[str], json_out: IO[str]) -> int:
        writer = RowWriter(REDEMPTION_COLUMNS, csv_out, json_out)
        for status in (RedemptionStatus.REQUESTED, RedemptionStatus.FULFILLED):
            start: dict[str, Any] | None = None
            while True:
                page = self._rewards.redemptions_to_hand_over(status, PAGE, start)
                for item in page.items:
                    writer.row(redemption_row(item))
                if not page.next_token:
                    break
                start = page.next_token
        return writer.rows
