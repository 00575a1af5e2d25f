"""The report as a table for a terminal, or as JSON for machines."""

from __future__ import annotations

import json

from chorus_local.doctor.findings import Report, Status

_FIX_PREFIX = "fix: "


def render_table(report: Report) -> str:
    width = max([len("CHECK"), *(len(finding.check) for finding in report.findings)])
    indent = " " * (len("STATUS") + 2 + width + 2)
    lines = [
        f"chorus doctor: stack {report.stack} ({report.region}), {report.checked_at:%Y-%m-%d %H:%M %Z}",
        "",
        f"{'STATUS':<6}  {'CHECK':<{width}}  DETAIL",
    ]
    for finding in report.findings:
        lines.append(f"{finding.status.value:<6}  {finding.check:<{width}}  {finding.detail}")
        if finding.fix:
            lines.append(f"{indent}{_FIX_PREFIX}{finding.fix}")
    counts = ", ".join(f"{report.count(status)} {status.value}" for status in Status)
    lines += ["", f"{len(report.findings)} checks: {counts}"]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.as_json(), indent=2)
