"""Files that arrive over the network (web UI upload, ``POST /v1/ingest``): one set of rules for
both. A visitor chooses the file name and the bytes, so the name is reduced to a safe basename
before it touches the disk or a message, and type and size are checked before anything is parsed.
"""

from __future__ import annotations

import re
from pathlib import Path

from rag.errors import CorpusError, UploadTooLargeError
from rag.ingest.corpus import SUPPORTED_SUFFIXES
from rag.settings import Settings
from rag.text.sanitize import clean_text

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(name: str) -> str:
    """A visitor's file name as a plain basename: no directories, no controls, no odd characters."""
    base = clean_text(str(name).replace("\\", "/")).rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .") or "upload"
    return base[-120:]


def check_upload(name: str, size: int, settings: Settings) -> None:
    """CorpusError for a type paperchat cannot read, UploadTooLargeError over the size limit."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise CorpusError(f"{name}: unsupported file type; upload {', '.join(SUPPORTED_SUFFIXES)}")
    limit = settings.upload_max_mb
    if size > limit * 1024 * 1024:
        # the API stops reading at the limit, so the true size is not known: say what is
        raise UploadTooLargeError(f"{name} is larger than the upload limit of {limit:g} MB (PAPERCHAT_UPLOAD_MAX_MB)")
