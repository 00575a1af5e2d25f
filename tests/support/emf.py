"""CloudWatch EMF lines as a function writes them to stdout (what CloudWatch Logs turns into metrics)."""

from __future__ import annotations

import json
from typing import Any


def emf_records(out: str) -> list[dict[str, Any]]:
    """Every EMF record among the lines, each as {metric or dimension name: value, "_namespace": ...}."""
    records = []
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        names = [metric["Name"] for metric in directive["Metrics"]]
        dimensions = [name for group in directive["Dimensions"] for name in group]
        record = {name: document[name] for name in names + dimensions}
        records.append(record | {"_namespace": directive["Namespace"]})
    return records
