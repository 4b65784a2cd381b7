"""The typo check of ``load_settings``: PAPERCHAT_* names set in the environment or ./.env that
name no setting.

pydantic-settings ignores a variable it does not know (a shared .env holds other tools' keys), so a
misspelt PAPERCHAT_* name would leave its knob at the default without a word; ``load_settings``
refuses the names found here instead. Kept apart from ``rag.settings``, which holds what a setting
is; this is how a name that is none of them is found.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from rag.settings_sections import SECTIONS


def known_env_name(name: str, fields: Collection[str]) -> bool:
    """``top_k`` or ``answer__max_papers``: a field, or a field of a section."""
    section, sep, field = name.partition("__")
    if not sep:
        return name in fields
    return section in SECTIONS and field in SECTIONS[section].model_fields


def our_env_keys() -> list[str]:
    """PAPERCHAT_* names in the environment and in ./.env (so a typo is an error, not ignored)."""
    import os

    keys = [k for k in os.environ if k.upper().startswith("PAPERCHAT_")]
    env_file = Path(".env")
    if env_file.is_file():
        for line in env_file.read_text("utf-8", errors="replace").splitlines():
            name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if name.upper().startswith("PAPERCHAT_") and "=" in line:
                keys.append(name)
    return [k.upper() for k in keys]


def unknown_env_keys(fields: Collection[str]) -> list[str]:
    """The PAPERCHAT_* names set that are neither one of ``fields`` nor a section's field, sorted."""
    return sorted(k for k in our_env_keys() if not known_env_name(k[len("PAPERCHAT_"):].lower(), fields))
