"""Who may use the web UI and who may add papers through it: one set of rules for ``paperchat ui``
and the UI that ``paperchat serve`` mounts, matching the API's (``POST /v1/ingest`` needs a key).

Adding papers changes what every visitor is answered from, so it needs a logged-in visitor
(PAPERCHAT_API_KEYS or PAPERCHAT_AUTH), except on a ``paperchat ui`` that only this machine can
reach, which is one person's own app.
"""

from __future__ import annotations

from typing import Any

from rag.settings import Settings


def gradio_auth(settings: Settings) -> tuple[Any, str | None]:
    """Gradio's ``auth`` and login message: any user name with one of the API keys as the
    password, else PAPERCHAT_AUTH's user and password, else no login."""
    keys = settings.api_key_list
    if keys:
        return ((lambda _user, password: password in keys),
                "paperchat: log in with any user name and one of PAPERCHAT_API_KEYS as the password")
    if settings.auth:
        return tuple(settings.auth.split(":", 1)), "paperchat: log in with PAPERCHAT_AUTH's user and password"
    return None, None


def uploads_allowed(settings: Settings, host: str | None, *, share: bool = False) -> bool:
    """Whether the UI may add papers: behind a login always; without one, only on a loopback
    host with no share link (``host=None``: a server whose API also answers, where ingest over
    HTTP needs a key, so the UI's upload does too)."""
    from rag.exposure import is_loopback

    if settings.api_key_list or settings.auth:
        return True
    return host is not None and not share and is_loopback(host)
