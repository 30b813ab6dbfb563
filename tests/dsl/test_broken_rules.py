"""Each file in broken/ is wrong in one way; its first line says which diagnostic, and where.

`# expect E104 at 3:20` means: a diagnostic with code E104 at line 3, column 20 of that file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.diagnostics import Severity
from tests.dsl.helpers import compile_text

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.kazi"))
_EXPECT = re.compile(r"# expect ([EW]\d{3}) at (\d+):(\d+)")


def test_there_are_enough_broken_files() -> None:
    assert len(BROKEN) >= 30


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_gives_its_diagnostic_at_its_place(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = _EXPECT.match(text)
    assert found is not None, "the first line must say what to expect"
    code, line, column = found.group(1), int(found.group(2)), int(found.group(3))
    graph, diagnostics = compile_text(text, str(path))
    places = [(d.code, d.span.file, d.span.line, d.span.column) for d in diagnostics]
    assert (code, str(path), line, column) in places
    if code.startswith("E"):
        assert graph is None, "a config with an error must not compile"
    else:
        assert graph is not None, "warnings alone do not stop a config"
        assert all(d.severity is Severity.WARNING for d in diagnostics)
    # The filename names the code, so a file cannot silently test something else.
    assert path.stem.split("_")[0].upper() == code


def test_the_issue_example_reads_like_a_compiler() -> None:
    text = 'rule "Quotes"\nwhen message received\nthen\n    move to stage "qoute"\nend\n'
    _, diagnostics = compile_text(text, "configs/acme/rules/quotes.kazi")
    (diagnostic,) = diagnostics
    assert diagnostic.render(text) == (
        "configs/acme/rules/quotes.kazi:4:19: error[E104]: unknown stage 'qoute' "
        "(did you mean 'quote'?)\n"
        '        move to stage "qoute"\n'
        "                      ^^^^^^^"
    )


def test_every_problem_is_reported_not_only_the_first() -> None:
    text = (
        'rule "Many problems"\nwhen stage entered "qoute"\nif contact.vip > 3\nthen\n'
        '  send template "nope"\n  assign to team "sale"\nend\n'
    )
    _, diagnostics = compile_text(text)
    assert [d.code for d in diagnostics] == ["E104", "E110", "E105", "E106"]
