"""``paperchat serve``: the HTTP API (OpenAI-compatible chat with citations, REST search, papers
and ingest) and the web UI in one process, over one shared :class:`rag.paperchat.Paperchat`."""
