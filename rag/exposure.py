"""Whether a server may listen where it was asked to: beyond this machine only behind a login,
unless the operator says otherwise. One rule for ``paperchat serve`` and ``paperchat ui``."""

from __future__ import annotations

import ipaddress

from rag.errors import ConfigError
from rag.settings import Settings


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str, allow_no_auth: bool, *, ui_only: bool = False) -> None:
    """Refuse to serve beyond this machine with nobody's login required, unless told to.
    ``ui_only``: the web UI alone, which PAPERCHAT_AUTH's user and password also protect (the
    API takes only PAPERCHAT_API_KEYS)."""
    protected = bool(settings.api_key_list) or (ui_only and bool(settings.auth))
    if not is_loopback(host) and not protected and not allow_no_auth:
        what = "PAPERCHAT_API_KEYS (or PAPERCHAT_AUTH)" if ui_only else "PAPERCHAT_API_KEYS"
        raise ConfigError(
            f"refusing to listen on {host} without {what}: anyone who can reach it could use the "
            f"server's models and keys; set {what}, listen on 127.0.0.1, or pass --allow-no-auth")
