"""Where a cold start's CPU goes, part by part, for the smallest function and the largest.

    python -m bench.cold_start_parts [--repeat 3]

bench.cold_start measures whole cold starts; this splits one into its parts, each timed in CPU
(what load on a shared machine changes least) in a fresh interpreter laid out like Lambda, in
the order a cold start meets them: what one part imports is not counted again in a later one.
No AWS call is made (the clients are made, not called). Each figure is the median of
``--repeat`` processes, and is printed as a share of ``import boto3`` in the same process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

from bench.import_time import LAYER, lambda_like_env

CLIENT = "boto3.client({!r}, region_name='eu-west-1', aws_access_key_id='x', aws_secret_access_key='x')"

# (label, statements) in the order the function meets them.
COMMON = [
    ("import boto3 (the baseline)", "import boto3"),
    ("Powertools Logger and metrics (the handler's import)", "import aws_lambda_powertools.metrics"),
    ("import pydantic", "import pydantic.main"),
    ("chorus.config and bootstrap (settings models, network registry)", "import chorus.bootstrap"),
]
PARTS = {
    "RetentionFunction": [
        *COMMON,
        ("its chorus modules (service, store)", "import chorus.services.retention, chorus.store.privacy"),
        ("first client, DynamoDB (its model, endpoints, rules)", CLIENT.format("dynamodb")),
    ],
    "WebFunction": [
        *COMMON,
        ("Powertools event_handler (with asyncio)", "import aws_lambda_powertools.event_handler"),
        ("import jinja2", "import jinja2"),
        (
            "its chorus modules (routes, services, stores, domain)",
            "import chorus.web.employee, chorus.services.consent, chorus.services.clicks",
        ),
        ("first client, Secrets Manager (the link keys)", CLIENT.format("secretsmanager")),
        ("second client, DynamoDB", CLIENT.format("dynamodb")),
        (
            "Jinja2 compiles the activity page",
            "from chorus.messages.rendering import environment\n"
            "environment('chorus.web').get_template('pages/activity.html.j2')",
        ),
        (
            "X's counter on a sentence (URL and emoji patterns compiled)",
            "from chorus.domain.lengths import weighted_length\nweighted_length('We opened in Lyon. Come and see!')",
        ),
    ],
}

_CHILD = """
import json, sys, time
parts = json.loads(sys.argv[1])
spent, scope = [], {}
for statements in parts:
    cpu = time.process_time()
    exec(statements, scope)
    spent.append(time.process_time() - cpu)
print(json.dumps(spent))
"""


def measure(parts: list[tuple[str, str]], repeat: int, workdir: str) -> list[float]:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, json.dumps([statements for _, statements in parts])],
            env=lambda_like_env([LAYER]),
            cwd=workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip()[-2000:])
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return [statistics.median(run[index] for run in runs) * 1000 for index in range(len(parts))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per function (median)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chorus-parts-") as workdir:
        for function, parts in PARTS.items():
            spent = measure(parts, args.repeat, workdir)
            print(f"{function}: CPU ms, median of {args.repeat} fresh processes")
            for (label, _), milliseconds in zip(parts, spent, strict=True):
                print(f"  {label:<62} {milliseconds:7.1f}  {milliseconds / spent[0]:5.2f}x")
            print(f"  {'all of them':<62} {sum(spent):7.1f}  {sum(spent) / spent[0]:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
