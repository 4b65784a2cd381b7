"""The README's layout section names every module and sub-package of rag/, so the map a new
maintainer reads matches the tree (it missed 12 modules once)."""

from __future__ import annotations

import re

from helpers import REPO


def _layout_block() -> str:
    readme = (REPO / "README.md").read_text("utf-8")
    start = readme.index("## Layout")
    fence = readme.index("```", start)
    return readme[fence: readme.index("```", fence + 3)]


def test_every_rag_module_is_named_in_the_readme_layout():
    block = _layout_block()
    missing = []
    for path in sorted((REPO / "rag").rglob("*.py")):
        name = f"{path.parent.name}/" if path.name == "__init__.py" else path.stem
        if not re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", block):
            missing.append(path.relative_to(REPO).as_posix())
    assert not missing, f"not in the README's layout section: {missing}"


def test_the_layout_names_no_module_that_is_gone():
    block = _layout_block()
    rag_lines = block[block.index("rag/"): block.index("\ncli/")]
    named = set(re.findall(r"^\s{2}([a-z_]+)/?\s", rag_lines, re.M))  # the first word of each entry
    present = {p.stem for p in (REPO / "rag").glob("*.py")} | {p.name for p in (REPO / "rag").iterdir() if p.is_dir()}
    assert named and named <= present, named - present
