"""What the live index holds, in a small JSON file beside it, so `paperchat stats` (and the UI's
header, the API's /healthz) need not import and open Chroma, which costs over a second.

Only :class:`rag.paperchat.Paperchat` writes it: it removes the file before an ingest touches
the index and writes it once the ingest is done, so the file is either current or absent (a
killed ingest leaves none). A file that does not match the settings (another collection prefix,
another Chroma directory) or a Chroma database that was replaced since (another inode) is
ignored, and the caller asks Chroma. Only for the embedded store: a Chroma server may be written
by other machines.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rag.settings import Settings
from rag.storage.fsutil import atomic_write_text

VERSION = 2  # 2: stats has "dates" (written / inferred by method / month and day only / none)
_SQLITE = "chroma.sqlite3"  # the file an embedded Chroma keeps its records in


def facts_path(settings: Settings) -> Path:
    return settings.cache_dir / f"{settings.collection}-facts.json"


def _database_id(settings: Settings) -> list[int] | None:
    """(device, inode) of the embedded Chroma database: changes when it is deleted and rebuilt."""
    try:
        st = os.stat(settings.chroma_path / _SQLITE)
    except OSError:
        return None
    return [st.st_dev, st.st_ino]


def _key(settings: Settings) -> dict[str, Any]:
    return {"version": VERSION, "collection": settings.collection, "chroma_path": str(settings.chroma_path),
            "database": _database_id(settings)}


def save(path: Path, settings: Settings, facts: dict[str, Any]) -> None:
    """Record ``facts`` (what ``Paperchat.stats`` returns) for this settings' index."""
    key = _key(settings)
    if key["database"] is None:
        return  # nothing on disk to describe
    try:
        atomic_write_text(path, json.dumps({**key, "facts": facts}, indent=1))
    except OSError:
        pass  # a read-only home only costs opening Chroma in stats


def load(path: Path, settings: Settings) -> dict[str, Any] | None:
    """The recorded facts, or None when there are none or they may not describe this index."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("facts"), dict):
        return None
    if any(data.get(k) != v for k, v in _key(settings).items()):
        return None
    return data["facts"]


def forget(path: Path) -> None:
    """Remove the file before the index changes (a missing file means: ask Chroma)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
