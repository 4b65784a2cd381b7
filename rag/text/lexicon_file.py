"""Reads ``rag/text/lexicon.txt``, the file that holds the lexicon's word lists.

The word lists are data, hundreds of words long; in a file of their own they leave
:mod:`rag.text.lexicon` to name each list, say what it means and compile the patterns. Only the
lexicon reads this module: every other module takes its words from the lexicon, by name.

The file is package data (``[tool.setuptools.package-data]``), found with :mod:`importlib.resources`
and read once, on the lexicon's first look-up (at its import). A name the file lacks is a KeyError
there, so a list cannot go missing quietly.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

FILE = "lexicon.txt"


@cache
def sections() -> MappingProxyType[str, tuple[str, ...]]:
    """NAME -> the lines of its ``[NAME]`` section, stripped; blank and ``#`` lines left out."""
    text = resources.files("rag.text").joinpath(FILE).read_text("utf-8")
    out: dict[str, list[str]] = {}
    lines: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            if line[1:-1] in out:
                raise ValueError(f"{FILE}: section {line} appears twice")
            lines = out[line[1:-1]] = []
        elif line and not line.startswith("#"):
            if lines is None:
                raise ValueError(f"{FILE}: {line[:40]!r} before the first section")
            lines.append(line)
    return MappingProxyType({name: tuple(body) for name, body in out.items()})


def words(name: str) -> frozenset[str]:
    """A set of words: every word of the section, whatever the line breaks."""
    return frozenset(" ".join(sections()[name]).split())


def entries(name: str) -> tuple[str, ...]:
    """Ordered entries, one per line (an entry may hold spaces: "how many")."""
    return sections()[name]


def table(name: str, value: type) -> MappingProxyType[str, Any]:
    """A read-only table, in the file's order: one ``word value`` pair per line, the value read as ``value``."""
    pairs = (line.split() for line in sections()[name])
    return MappingProxyType({word: value(v) for word, v in pairs})
