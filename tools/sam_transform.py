"""Print the CloudFormation template CloudFormation deploys: template.yaml after the SAM transform.

Runs in the tools venv (.tools/bin/python), where aws-sam-translator lives; the project venv
cannot import it (the translator pins an older pydantic). Used by `make cfn-lint` and by the
template tests (tests/integration/template/), which run it in a subprocess.

    .tools/bin/python tools/sam_transform.py [--template template.yaml] [--parameter Stage=b ...]

Local CodeUri/ContentUri folders become placeholder S3 locations, as `sam package` would make
them, because the translator accepts only S3 locations. Nothing here calls AWS: a template that
named a managed policy instead of its ARN would fail (no policy map is loaded).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.public.exceptions import InvalidDocumentException
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER_BUCKET = "chorus-transform-placeholder"
# Properties that name a local folder before `sam package` uploads it.
LOCAL_ARTIFACTS = {
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Serverless::LayerVersion": "ContentUri",
}


def _to_s3(properties: dict[str, Any], key: str) -> None:
    value = properties.get(key)
    if isinstance(value, str) and not value.startswith("s3://"):
        properties[key] = f"s3://{PLACEHOLDER_BUCKET}/{value.strip('/') or 'root'}.zip"


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` hands it over: artifacts in S3, not in local folders."""
    globals_function = (template.get("Globals") or {}).get("Function") or {}
    _to_s3(globals_function, "CodeUri")
    for resource in (template.get("Resources") or {}).values():
        key = LOCAL_ARTIFACTS.get(resource.get("Type", ""))
        if key:
            _to_s3(resource.setdefault("Properties", {}), key)
    return template


def transform(template_text: str, parameters: dict[str, str], region: str) -> dict[str, Any]:
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        plugins=[],
        boto_session=boto3.session.Session(region_name=region),
    )
    result: dict[str, Any] = translator.translate(
        sam_template=packaged(yaml_parse(template_text)),
        parameter_values=dict(parameters),
        get_managed_policy_map=dict,
    )
    return result


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected Name=Value, got {text!r}")
    return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--parameter", type=_parameter, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--region", default="eu-west-1")
    parser.add_argument("--output", "-o", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        result = transform(args.template.read_text(encoding="utf-8"), dict(args.parameter), args.region)
    except InvalidDocumentException as exc:
        causes = "; ".join(str(cause) for cause in exc.causes)
        sys.stderr.write(f"{args.template}: the SAM transform refuses the template: {exc} {causes}\n")
        return 1
    text = json.dumps(result, indent=2, sort_keys=True) + "\n"
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
