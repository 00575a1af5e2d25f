"""bench.cold_start runs end to end once per function, so `make bench` cannot rot: the story
reaches every function of the template, and each one, started fresh like Lambda, handles its
first event without an error. (Its timings are figures for bench/README.md, not asserted here:
a shared CI machine's timings say nothing.)"""

from __future__ import annotations

import re
import sys

import pytest
from bench import cold_start

ROW = re.compile(r"^(\w+Function)\s.*\s(PASS|FAIL) (.*)$", flags=re.MULTILINE)


def _clear_runtime_caches() -> None:
    """The story runs the handlers in this process; their cached clients point at its cloud."""
    bootstrap = sys.modules.get("chorus.bootstrap")
    for value in vars(bootstrap).values() if bootstrap is not None else ():
        clear = getattr(value, "cache_clear", None)
        if callable(clear):
            clear()


@pytest.mark.slow
def test_every_function_starts_cold_and_handles_its_first_event(capsys):
    # Given the template's functions and a story that reaches each of them
    # When each is started in a fresh interpreter with the first event it received
    _clear_runtime_caches()
    try:
        assert cold_start.main(["--repeat", "1"]) == 0
    finally:
        _clear_runtime_caches()
    out = capsys.readouterr().out
    # Then every function was reached and handled its event (an HTTP function answered 2xx)
    assert "not reached" not in out, out
    answers = {function: answer for function, _verdict, answer in ROW.findall(out)}
    assert len(answers) == 11, out
    failed = {function: answer for function, answer in answers.items() if answer not in {"ok", "HTTP 200", "HTTP 202"}}
    assert not failed, out
