"""The repository stands alone: a plain clone builds, tests and documents itself.

Nothing in it may read or link a file beside the clone (the team's old `../shared/` folder):
such a reference works on a developer's machine and fails everywhere else.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# A relative path climbing out of the repository to a `shared` folder, in prose or in code.
OUTSIDE = re.compile(r"""\.\./shared\b|parent\s*/\s*["']shared["']""")
BINARY_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".woff", ".woff2", ".zip", ".gz"}


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_the_pattern_catches_what_it_is_for() -> None:
    assert OUTSIDE.search("see [design](../shared/DESIGN.md)")
    assert OUTSIDE.search('SPEC = ROOT.parent / "shared" / "specs"')
    assert not OUTSIDE.search("the shared package, built by SAM into a layer")


def test_no_file_reads_or_links_outside_the_repository() -> None:
    offenders = []
    for path in tracked_files():
        if path.suffix in BINARY_SUFFIXES or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [
            f"{path.relative_to(ROOT)}:{number}"
            for number, line in enumerate(text.splitlines(), 1)
            if OUTSIDE.search(line) and path.name != Path(__file__).name
        ]
    assert offenders == []


def test_vendored_specs_and_design_are_in_the_repository() -> None:
    assert (ROOT / "tests" / "fixtures" / "specs" / "x-api-v2-openapi.json").is_file()
    assert "x-api-v2-openapi.json" in (ROOT / "tests" / "fixtures" / "specs" / "README.md").read_text()
    design = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    assert "## Revisions" in design
    assert "(docs/DESIGN.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
