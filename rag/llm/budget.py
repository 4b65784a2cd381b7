"""A time budget for a model's stream: what the caller waits for is bounded, whatever the model does.

A loaded machine can take 10-30 s for a one-line summary, and a model that is still reading its
prompt (or a server that has not answered yet) sends nothing the caller could react to. So the
stream runs in a worker thread that feeds a queue, and the caller reads the queue with a timeout:
once the budget is spent, :func:`within` raises :class:`OutOfTime` at once, tells the worker to
stop, and the worker closes the stream at the model's next delta. Closing is what stops the work:
the local backend's llama.cpp callback then returns "stop", an HTTP stream's connection is closed
(and a llama.cpp or vLLM server aborts the request). ``on_end`` runs in the worker once the stream
is really over (release a model slot there, so the next request does not queue behind a
generation that is still stopping).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

WORKER_NAME = "paperchat-budgeted-stream"


class OutOfTime(Exception):  # noqa: N818 - a condition the caller handles, not an error
    """The budget ran out before the stream ended; nothing after the last delta was read."""

    def __init__(self, budget_s: float) -> None:
        super().__init__(f"the model did not finish within {budget_s:g}s")
        self.budget_s = budget_s


_DONE = object()


def within(open_stream: Callable[[], Iterator[str]], budget_s: float,
           on_end: Callable[[], Any] | None = None) -> Iterator[str]:
    """The deltas of ``open_stream()`` for at most ``budget_s`` seconds, then :class:`OutOfTime`.

    Errors of the stream are raised in the caller. Closing this iterator early stops the stream
    the same way running out of time does."""
    items: queue.Queue[Any] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        stream = None
        try:
            stream = open_stream()
            for delta in stream:
                if stop.is_set():
                    break
                items.put(delta)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            items.put(e)
        finally:
            close = getattr(stream, "close", None)
            try:
                if callable(close):
                    close()  # the model stops here (see the module docstring)
            finally:
                items.put(_DONE)
                if on_end is not None:
                    on_end()

    worker = threading.Thread(target=work, name=WORKER_NAME, daemon=True)
    deadline = time.monotonic() + max(0.0, budget_s)
    worker.start()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise OutOfTime(budget_s)
            try:
                item = items.get(timeout=left)
            except queue.Empty:
                raise OutOfTime(budget_s) from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
