"""Papers from public APIs (`paperchat fetch`): Hugging Face Daily Papers and arXiv.

``hf`` and ``arxiv`` turn a response's text into paper records (pure); ``http`` is the one polite
client (delay per host, retries, size cap, an on-disk cache that makes a rerun resume); ``run``
puts them together and writes the records as JSONL under ``<home>/fetched``, which is then
ingested like any other file. Importing this package imports no HTTP client.
"""
