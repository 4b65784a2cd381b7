"""One exception family. The CLI and the UI catch :class:`PaperchatError` and show its message."""


class PaperchatError(Exception):
    """Base class: the message is written for the user and names what to fix."""


class ConfigError(PaperchatError):
    """A setting is missing, malformed or contradicts another."""


class QuestionError(PaperchatError):
    """A question that cannot be asked: empty, too long, or not valid Unicode text."""


class CorpusError(PaperchatError):
    """An input file cannot be parsed (empty, binary, malformed); names file and line."""


class UploadTooLargeError(CorpusError):
    """An uploaded file is over the size limit (PAPERCHAT_UPLOAD_MAX_MB)."""


class FetchError(PaperchatError):
    """Fetching papers from an API failed: host unreachable, an error status after retries, or a
    reply that is not what the API documents (HTML, cut off, too large); names the host or URL."""


class IndexMissingError(PaperchatError):
    """A query was made before anything was ingested."""


class StoreError(PaperchatError):
    """The vector store (embedded Chroma or a Chroma server) failed or is unreachable."""


class ModelError(PaperchatError):
    """A bundled model could not be found or loaded."""


class BackendError(PaperchatError):
    """An LLM backend failed: unreachable, timeout, bad key, unknown model."""

    def __init__(self, message: str, *, backend: str = "", kind: str = "error") -> None:
        super().__init__(message)
        self.backend = backend
        self.kind = kind
