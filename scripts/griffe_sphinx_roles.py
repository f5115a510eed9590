"""Griffe extension for the API pages: Sphinx roles in our docstrings become links.

The docstrings cross-reference with Sphinx roles (``:func:`orient_pose```,
``:class:`~.errors.AnalysisError```), which mkdocstrings would print as they are. This turns
each into an optional cross-reference of mkdocs-autorefs: a link when the target is on an
API page, plain code otherwise (other packages, private helpers), never a warning. Loaded by
mkdocs.yml (``extensions:`` of the python handler); the docstrings stay as they are.
"""

from __future__ import annotations

import re

import griffe

_ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|data|attr|exc|obj|const):`(~?)([^`<]+?)`")


def _target(text: str, obj) -> str:
    """The full dotted path a role's target means, seen from ``obj``."""
    module = obj.module
    if text.startswith("."):  # relative: .errors.AnalysisError from napari_gaitint.core.orient
        return f"{module.parent.path if module.parent else module.path}{text}"
    first, _, rest = text.partition(".")
    rest = f".{rest}" if rest else ""
    if first in module.members:  # a name of this module (or a member of one)
        member = module.members[first]
        if member.is_alias:  # imported here: the place where it is documented
            return f"{member.target_path}{rest}"
        return f"{module.path}.{text}"
    if module.parent is not None and first in module.parent.members:  # a sibling module
        return f"{module.parent.path}.{text}"
    cls = obj if obj.is_class else obj.parent if obj.parent is not None and obj.parent.is_class else None
    if cls is not None and first in cls.members:  # a method of the same class
        return f"{cls.path}.{text}"
    return text  # a full path (napari_gaitint..., or another package's: left as code)


def convert(value: str, obj) -> str:
    def repl(match: re.Match) -> str:
        short, text = match.group(1), match.group(2).strip()
        name = text.rstrip("()")
        target = _target(name, obj)
        title = name.split(".")[-1] if short or text.startswith(".") else name.lstrip(".")
        return f'<autoref identifier="{target}" optional><code>{title}</code></autoref>'

    return _ROLE.sub(repl, value)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of the package as optional autorefs."""

    def on_package(self, *, pkg, **kwargs) -> None:
        # once the whole tree is loaded: a role may name anything in its module
        todo = [pkg]
        while todo:
            obj = todo.pop()
            if obj.docstring is not None and ":`" in obj.docstring.value:
                obj.docstring.value = convert(obj.docstring.value, obj)
            todo.extend(m for m in obj.members.values() if not m.is_alias)
