"""The process's llama.cpp servers: one xllamacpp ``Server`` per (model, context, threads), loaded
once and shared, and the generations streaming from them.

Process-wide state, apart from :class:`rag.llm.local.LocalLlamaCpp` (one object per backend the
app builds): however many instances ask for one model, it is loaded once; and at exit, running
generations are stopped and waited for, since a worker thread still inside llama.cpp when the
interpreter tears down aborts the process. ``servers`` is what is loaded (the tests count it).
"""

from __future__ import annotations

import atexit
import secrets
import threading
import time
from typing import Any

from rag.errors import ModelError

servers: dict[tuple[str, int, int], Any] = {}
_servers_lock = threading.Lock()
streams: set[tuple[threading.Event, threading.Thread]] = set()
streams_lock = threading.Lock()
_atexit_registered = False
EXIT_WAIT_S = 15.0


def _stop_streams_at_exit() -> None:
    """Ask running generations to stop and wait for them (bounded) before the interpreter tears
    down: a worker thread still inside llama.cpp at finalization aborts the process."""
    with streams_lock:
        active = list(streams)
    for stop, _ in active:
        stop.set()
    deadline = time.monotonic() + EXIT_WAIT_S
    for _, worker in active:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))


def load_server(path: str, n_ctx: int, n_threads: int) -> Any:
    """One xllamacpp Server per (model, context, threads) per process: loading is paid once.

    llama.cpp's server queues concurrent requests itself, so sharing one is thread-safe; the lock
    only makes sure two threads asking at once do not both load the model.
    """
    key = (path, n_ctx, n_threads)
    with _servers_lock:
        server = servers.get(key)
        if server is not None:
            return server
        try:
            import xllamacpp
        except ImportError as e:
            raise ModelError(
                f"the local backend needs the package 'xllamacpp' ({e}); run `pip install xllamacpp`"
            ) from None

        params = xllamacpp.CommonParams()
        params.model.path = path
        params.n_ctx = n_ctx
        params.n_parallel = 1  # one slot: the whole context window serves one request at a time
        params.cpuparams.n_threads = n_threads
        params.cpuparams_batch.n_threads = n_threads
        params.verbosity = 0
        params.ui = False
        params.cache_ram_mib = 256  # host-RAM prompt cache; the default is 8 GiB
        # Server() also listens on a random 127.0.0.1 port; a random key we never use keeps
        # other local users off it. Direct handle_* calls do not go through HTTP auth.
        params.api_keys = [secrets.token_hex(16)]
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as e:
            raise ModelError(
                f"llama.cpp could not load {path} ({e}): is it a complete GGUF file of a "
                "model architecture this xllamacpp version supports?"
            ) from None
        global _atexit_registered
        if not _atexit_registered:
            atexit.register(_stop_streams_at_exit)
            _atexit_registered = True
        servers[key] = server
        return server
