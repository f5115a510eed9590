"""Write docs/cli.md and the README's command synopsis from the parsers of ``gaitint``.

The page is made from ``napari_gaitint.cli.build_parser()``, so it lists every command and
option with the help text ``gaitint <command> --help`` prints. Run it after changing the
command line:

    .venv/bin/python scripts/cli_page.py           # rewrite docs/cli.md and the README block
    .venv/bin/python scripts/cli_page.py --check   # exit 1 if either is out of date

It is also a MkDocs hook (``hooks:`` in mkdocs.yml): ``mkdocs build --strict`` fails when the
committed page or the README block no longer match the parsers. ``tests/test_docs.py`` checks
the same.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "cli.md"
README = ROOT / "README.md"
BEGIN = "<!-- BEGIN GENERATED synopsis (scripts/cli_page.py) -->"
END = "<!-- END GENERATED synopsis -->"

INTRO = """\
# Command line

`gaitint` runs the whole analysis without napari. Every command has `--help`, which prints
what this page lists (the page is generated from the same parsers by `scripts/cli_page.py`).

Errors in the input print one line naming the file and the problem and exit with status 2
(`gaitint --debug <command> ...` shows the traceback; every message is listed in
[Bad inputs](errors.md)). Outputs are written atomically and never replace an existing file
unless `--overwrite` is given; source files are never modified.

```text
{synopsis}
```
"""


def _parser() -> argparse.ArgumentParser:
    from napari_gaitint.cli import build_parser

    return build_parser()


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """(name, one-line help, parser) of each sub-command, in the order ``--help`` lists them."""
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                out.append((name, helps.get(name, ""), sub))
    return out


def _metavar(action: argparse.Action) -> str:
    if action.metavar is not None:
        return str(action.metavar)
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return action.dest.upper() if action.option_strings else action.dest.upper()


def _takes_value(action: argparse.Action) -> bool:
    return action.nargs != 0


def _is_user_option(action: argparse.Action) -> bool:
    return not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)


def _usage(prog: str, parser: argparse.ArgumentParser, *, short: bool = False) -> str:
    """``gaitint clean PRED [--other-view PRED2] ...``; ``short`` keeps the positionals and
    required options and writes the rest as ``[options]``."""
    words = [prog]
    optional = []
    for action in parser._actions:
        if not _is_user_option(action):
            continue
        if not action.option_strings:
            word = _metavar(action)
            words.append(f"[{word}]" if action.nargs == "?" else word)
            continue
        word = action.option_strings[-1]
        if _takes_value(action):
            word += " " + _metavar(action)
        if action.required:
            words.append(word)
        else:
            optional.append(f"[{word}]")
    if short:
        return " ".join(words + (["[options]"] if optional else []))
    return " ".join(words + optional)


def _cell(text: str) -> str:
    """Help text as Markdown text: one line, no emphasis or HTML made by accident."""
    text = " ".join(text.split())
    for char in "\\*_|":
        text = text.replace(char, "\\" + char)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| argument | what it does |", "|---|---|"]
    for action in parser._actions:
        if not _is_user_option(action):
            continue
        if action.option_strings:
            name = ", ".join(action.option_strings)
            if _takes_value(action):
                name += " " + _metavar(action)
        else:
            name = _metavar(action)
        helptext = (action.help or "") % {"default": action.default, "prog": parser.prog}
        if action.required and action.option_strings:
            helptext += " (required)"
        rows.append(f"| `{name}` | {_cell(helptext)} |")  # a code span: no escapes
    return rows


def _commands(parser: argparse.ArgumentParser):
    """Every runnable command, depth first: (``gaitint dlc analyze``, help, parser)."""
    for name, helptext, sub in _subparsers(parser):
        prog = f"gaitint {name}"
        nested = _subparsers(sub)
        if nested:
            yield prog, helptext, sub, True
            for sub_name, sub_help, leaf in nested:
                yield f"{prog} {sub_name}", sub_help, leaf, False
        else:
            yield prog, helptext, sub, False


def command_names() -> list[str]:
    """Every command a user can run, e.g. ``gaitint dlc export-labels``."""
    return [prog for prog, _, _, group in _commands(_parser()) if not group]


def synopsis() -> str:
    """One line per command: positionals, required options, ``[options]``, what it does."""
    rows = [(_usage(prog, sub, short=True), helptext)
            for prog, helptext, sub, group in _commands(_parser()) if not group]
    width = max(len(usage) for usage, _ in rows)
    return "\n".join(f"{usage:<{width}}  # {' '.join(helptext.split())}" for usage, helptext in rows)


def render_page() -> str:
    parser = _parser()
    out = [INTRO.format(synopsis=synopsis()).rstrip("\n"), ""]
    out += ["## Options of every command", "",
            "| option | what it does |", "|---|---|"]
    for action in parser._actions:
        if _is_user_option(action) and action.option_strings:
            out.append(f"| `{', '.join(action.option_strings)}` (before the command) | {_cell(action.help or '')} |")
    out.append("")
    for prog, helptext, sub, group in _commands(parser):
        level = "##" if prog.count(" ") == 1 else "###"
        out += [f"{level} `{prog}`", ""]
        description = sub.description or helptext
        out += [_cell(description), ""]
        if group:
            out += ["| command | what it does |", "|---|---|"]
            for name, sub_help, _ in _subparsers(sub):
                anchor = f"{prog} {name}".replace(" ", "-")
                out.append(f"| [`{prog} {name}`](#{anchor}) | {_cell(sub_help)} |")
            out.append("")
            continue
        out += ["```text", _usage(prog, sub), "```", ""]
        out += _options_table(sub)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def readme_block() -> str:
    return f"{BEGIN}\n```text\n{synopsis()}\n```\n{END}"


def render_readme(text: str) -> str:
    """The README with its generated synopsis block replaced (the block must exist)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README.md has no {BEGIN} ... {END} block")
    return text[:start] + readme_block() + text[end + len(END):]


def stale() -> list[str]:
    """The generated files that do not match the parsers (relative paths)."""
    out = []
    if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != render_page():
        out.append("docs/cli.md")
    text = README.read_text(encoding="utf-8")
    try:
        if render_readme(text) != text:
            out.append("README.md")
    except ValueError:
        out.append("README.md")
    return out


def on_pre_build(config, **kwargs) -> None:  # MkDocs hook
    bad = stale()
    if bad:
        logging.getLogger("mkdocs.hooks.cli_page").warning(
            "%s out of date with gaitint's parsers: run .venv/bin/python scripts/cli_page.py",
            " and ".join(bad))


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--check", action="store_true", help="only check; exit 1 if out of date")
    opts = args.parse_args(argv)
    bad = stale()
    if opts.check:
        for name in bad:
            print(f"{name} is out of date; run .venv/bin/python scripts/cli_page.py", file=sys.stderr)
        return 1 if bad else 0
    PAGE.write_text(render_page(), encoding="utf-8")
    README.write_text(render_readme(README.read_text(encoding="utf-8")), encoding="utf-8")
    for name in bad:
        print(f"wrote {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
