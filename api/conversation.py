"""Follow-ups over a stateless protocol: the OpenAI API resends the whole conversation as text, so
the server keeps each answer it sent, keyed by the exact content it sent, and finds the earlier
answers (as data, with their citations and numbers) when a client sends that content back. Text
is never parsed back into structure: an assistant message we did not write is simply no history.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from api.wire import message_text
from rag.errors import ConfigError
from rag.types.answers import Answer


def _key(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8", "surrogatepass")).hexdigest()


class AnswerStore:
    """The answers this process sent, by content; bounded (least recently used go first)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, content: str, answer: Answer) -> None:
        with self._lock:
            self._items[_key(content)] = answer
            self._items.move_to_end(_key(content))
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def get(self, content: str) -> Answer | None:
        with self._lock:
            answer = self._items.get(_key(content))
            if answer is not None:
                self._items.move_to_end(_key(content))
            return answer


def question_and_history(messages: Sequence[Mapping[str, Any]], store: AnswerStore) -> tuple[str, list[Answer]]:
    """The question (the last user message) and the earlier answers this server gave in the
    conversation, oldest first. ConfigError when there is no user message to answer."""
    if not messages:
        raise ConfigError("messages is empty: send at least one user message")
    for m in messages:
        if not isinstance(m, Mapping) or m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise ConfigError("every message needs a role: system, user or assistant")
    last = messages[-1]
    if last.get("role") != "user":
        raise ConfigError("the last message must be the user's question")
    question = message_text(last).strip()
    if not question:
        raise ConfigError("the last user message has no text")
    history = [a for m in messages[:-1] if m.get("role") == "assistant"
               for a in [store.get(message_text(m))] if a is not None]
    return question, history
