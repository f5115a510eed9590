"""The README stays a front door and the documentation stays in step with the code.

* README.md has at most 250 lines, and its relative links (and those of the docs pages) point
  to files that exist;
* docs/cli.md and the README's command synopsis are what ``scripts/cli_page.py`` makes from
  ``gaitint``'s parsers, and the synopsis names every command.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_README_LINES = 250

# [text](target) and ![alt](target); the target ends at whitespace or ')'
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)


def _relative_links(path: Path) -> list[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))  # no links inside code blocks
    text = re.sub(r"`[^`\n]*`", "", text)
    out = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue  # http:, mailto:, an anchor on the same page
        out.append(target)
    return out


def _cli_page():
    spec = importlib.util.spec_from_file_location("cli_page", ROOT / "scripts" / "cli_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_at_most_250_lines():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_README_LINES, (
        f"README.md has {n} lines (at most {MAX_README_LINES}): move details to a page in docs/")


@pytest.mark.parametrize("page", [README, *sorted((ROOT / "docs").rglob("*.md"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(page):
    links = _relative_links(page)
    missing = [t for t in links if not (page.parent / t.split("#", 1)[0]).exists()]
    assert not missing, f"{page.relative_to(ROOT)} links to missing files: {missing}"


def test_the_readme_links_to_the_docs_pages():
    links = {t.split("#", 1)[0] for t in _relative_links(README)}
    for page in ("docs/getting-started.md", "docs/cli.md", "docs/napari.md", "docs/performance.md",
                 "docs/errors.md", "CHANGELOG.md"):
        assert page in links, f"README.md does not link to {page}"


def test_link_finder_sees_links_and_skips_code(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("[a](docs/a.md) ![i](img/x.png \"t\") [w](https://x.org) [s](#here)\n"
                    "`[no](code.md)`\n```\n[no](block.md)\n```\n", encoding="utf-8")
    assert _relative_links(page) == ["docs/a.md", "img/x.png"]


def test_cli_page_and_readme_synopsis_match_the_parsers():
    stale = _cli_page().stale()
    assert not stale, (f"{' and '.join(stale)} out of date with gaitint's parsers; run "
                       ".venv/bin/python scripts/cli_page.py")


def _every_command(parser: argparse.ArgumentParser, prefix: str = "gaitint") -> list[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [prefix]
    return [c for name, p in subs[0].choices.items() for c in _every_command(p, f"{prefix} {name}")]


def test_readme_synopsis_and_cli_page_name_every_command():
    from napari_gaitint.cli import build_parser

    commands = _every_command(build_parser())
    # the commands a user can run, including manifest and every dlc sub-command
    assert {"gaitint manifest", "gaitint dlc analyze", "gaitint dlc analyze-folder",
            "gaitint dlc mirror", "gaitint dlc export-labels"} <= set(commands)
    module = _cli_page()
    readme = README.read_text(encoding="utf-8")
    block = readme[readme.index(module.BEGIN):readme.index(module.END)]
    named = set()
    for line in block.splitlines():
        if line.startswith("gaitint "):  # "gaitint dlc analyze CONFIG ..." -> "gaitint dlc analyze"
            words = line.split()
            k = next((i for i, w in enumerate(words) if w != w.lower() or w.startswith("[")), len(words))
            named.add(" ".join(words[:k]))
    assert named == set(commands), f"README synopsis names {sorted(named)}, the parsers {sorted(commands)}"
    page = module.PAGE.read_text(encoding="utf-8")
    missing = [c for c in commands if f"`{c}`" not in page]
    assert not missing, f"docs/cli.md has no section for {missing}"
