"""The HTTP API: an OpenAI-compatible chat endpoint whose answers carry verified citations, and
REST routes for search, papers, ingest and health. A thin face over the same
:class:`~rag.paperchat.Paperchat` the web UI uses (see :func:`api.serve.serve`, which mounts both).

Every error is JSON in OpenAI's error shape with the status a client can act on: 400 bad input,
401 missing or wrong key, 404 unknown model or paper, 413 upload too large, 503 index empty or
store/backend down. Never a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import wire
from api.conversation import AnswerStore, question_and_history
from rag.answer import bibtex, export
from rag.answer.stream import TextStream, fold
from rag.errors import (
    BackendError,
    ConfigError,
    CorpusError,
    IndexMissingError,
    PaperchatError,
    QuestionError,
    StoreError,
    UploadTooLargeError,
)
from rag.ingest.uploads import check_upload, safe_name
from rag.llm.choice import BackendPool, default_label, offers
from rag.settings import Settings
from rag.text.sanitize import check_question, markdown_literal
from rag.types.papers import Filters

log = logging.getLogger("paperchat.api")
MAX_UPLOAD_FILES = 20  # files per POST /v1/ingest, each up to PAPERCHAT_UPLOAD_MAX_MB
PAPER_FORMATS = ("json", "bibtex")  # GET /v1/papers/{id}?format=


class ApiError(Exception):
    """An error answered in OpenAI's shape."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", code: str | None = None,
                 param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param


def _status(e: PaperchatError) -> tuple[int, str, str | None]:
    if isinstance(e, UploadTooLargeError):
        return 413, "invalid_request_error", "file_too_large"
    if isinstance(e, ConfigError | CorpusError | QuestionError):
        return 400, "invalid_request_error", None
    if isinstance(e, IndexMissingError):
        return 503, "service_unavailable", "index_empty"
    if isinstance(e, StoreError | BackendError):
        return 503, "service_unavailable", None
    return 500, "server_error", None


def _json_error(status: int, message: str, type_: str, code: str | None = None, param: str | None = None):
    return JSONResponse(wire.error_body(message, type_, code, param), status_code=status)


def model_ids(settings: Settings) -> dict[str, str]:
    """Model id -> backend choice: ``paperchat`` is the server's own backend; ``paperchat:<name>``
    each backend the operator configured (e.g. ``paperchat:none``, evidence only, the fastest).
    The API takes no typed URLs or keys, whatever PAPERCHAT_UI_ALLOW_CUSTOM_BACKEND says."""
    configured = settings.model_copy(update={"ui_allow_custom_backend": False})
    return {wire.MODEL: "default"} | {f"{wire.MODEL}:{o.value}": o.value for o in offers(configured)
                                      if o.value != "default"}


def build_api(app: Any, settings: Settings, pool: BackendPool | None = None,
              store: AnswerStore | None = None) -> FastAPI:
    """The FastAPI app over ``app`` (a Paperchat). ``pool`` is shared with the web UI when both run."""
    pool = pool or BackendPool(settings)
    store = store or AnswerStore()
    keys = settings.api_key_list
    models = model_ids(settings)
    api = FastAPI(title="paperchat", description="Answers about ML paper abstracts with verified citations.",
                  version="1", docs_url="/docs", redoc_url=None)

    # --- errors ------------------------------------------------------------------------------
    @api.exception_handler(ApiError)
    async def _api_error(_: Request, e: ApiError):
        return _json_error(e.status, e.message, e.type, e.code, e.param)

    @api.exception_handler(PaperchatError)
    async def _library_error(_: Request, e: PaperchatError):
        status, type_, code = _status(e)
        return _json_error(status, " ".join(str(e).split()), type_, code)

    @api.exception_handler(RequestValidationError)
    async def _validation(_: Request, e: RequestValidationError):
        first = e.errors()[0] if e.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x != "body")
        return _json_error(400, f"{where or 'request'}: {first.get('msg', 'invalid')}", "invalid_request_error",
                           param=where or None)

    @api.exception_handler(StarletteHTTPException)
    async def _http(_: Request, e: StarletteHTTPException):
        return _json_error(e.status_code, str(e.detail), "invalid_request_error")

    api.add_middleware(_AnswerUnexpected)

    # --- auth --------------------------------------------------------------------------------
    def bearer(request: Request) -> str | None:
        header = request.headers.get("authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        return token or None

    def check_key(request: Request) -> None:
        if not keys:
            return
        token = bearer(request)
        # bytes: compare_digest refuses non-ASCII str, and a header may carry any byte
        given = token.encode("utf-8", "surrogateescape") if token is not None else None
        if given is None or not any(secrets.compare_digest(given, k.encode("utf-8")) for k in keys):
            raise ApiError(401, "missing or wrong API key: send Authorization: Bearer <one of PAPERCHAT_API_KEYS>",
                           code="invalid_api_key")

    def ingest_key(request: Request) -> None:
        if not keys:
            raise ApiError(403, "ingest over HTTP is off: the server has no PAPERCHAT_API_KEYS", code="ingest_disabled")
        check_key(request)

    authed = [Depends(check_key)]

    # --- OpenAI-compatible chat --------------------------------------------------------------
    @api.get("/v1/models", dependencies=authed)
    def list_models() -> dict:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "paperchat"}
                                           for m in models]}

    @api.post("/v1/chat/completions", dependencies=authed)
    async def chat_completions(request: Request):
        body = await _json_body(request, settings.chat_body_max_kb * 1024)
        model = body.get("model", wire.MODEL)
        if not isinstance(model, str):
            raise ApiError(400, "'model' must be a string, e.g. \"paperchat\"", param="model")
        model = model or wire.MODEL
        if model not in models:
            raise ApiError(404, f"The model `{model[:80]}` does not exist; this server has {', '.join(models)}",
                           code="model_not_found", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list):
            raise ApiError(400, "'messages' is a required property: a list of {role, content}", param="messages")
        stream = body.get("stream", False)
        if not isinstance(stream, bool) and stream is not None:
            raise ApiError(400, "'stream' must be true or false", param="stream")
        question, history = question_and_history(messages, store)
        cid = wire.completion_id()
        # the library is synchronous (retrieval, embedding, a model): it runs in worker threads,
        # never on the event loop, so one answer does not hold up other requests
        if stream:
            # what can be refused is refused before the stream starts (4xx / 503); opening the
            # index and the engine happens inside it, after the first chunk is on its way
            backend = await run_in_threadpool(_preflight, question, model)
            events = lambda: app.ask_stream(question, history=history or None, backend=backend)  # noqa: E731
            return StreamingResponse(_sse(events, cid, model), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        answer = await run_in_threadpool(lambda: fold(_start(question, history, model)))
        text = wire.content(answer)
        store.put(text, answer)
        return wire.completion(answer, model, cid, text)

    def _start(question: str, history: list, model: str):
        """The answer's event stream (blocking work: picking the backend may build it)."""
        backend = pool.get(models[model])
        return app.ask_stream(question, history=history or None, backend=backend)

    def _preflight(question: str, model: str):
        """The checks a stream cannot report as a status once it has started: the question, the
        backend, an index to answer from. Returns the backend."""
        check_question(question)
        backend = pool.get(models[model])
        if not app.stats().get("papers"):
            raise IndexMissingError("the index is empty: run `paperchat ingest` first")
        return backend

    async def _sse(start, cid: str, model: str) -> AsyncIterator[str]:
        """Server-sent chunks: the role at once (from the event loop, so no worker thread has to be
        free for it), then the answer's chunks, made in worker threads (:func:`_sse_body`)."""
        yield _data(wire.chunk(cid, model, role=True, content_delta=""))
        async for piece in iterate_in_threadpool(_sse_body(start, cid, model)):
            yield piece

    def _sse_body(start, cid: str, model: str) -> Iterator[str]:
        """Each quote line as it is found, the verified rest, then the sources list and a final
        chunk with the ``paperchat`` field; ``[DONE]`` last. A failure half-way is an error chunk,
        then ``[DONE]``: a client never sees a cut stream."""
        text = TextStream(literal=markdown_literal)
        sent: list[str] = []
        try:
            for ev in start():
                for line in text.add(ev):
                    piece = ("\n" if sent else "") + line
                    sent.append(piece)
                    yield _data(wire.chunk(cid, model, content_delta=piece))
                if text.fold.done:
                    break
        except PaperchatError as e:
            status, type_, code = _status(e)
            yield _data(wire.error_body(" ".join(str(e).split()), type_, code))
            yield "data: [DONE]\n\n"
            return
        except Exception as e:  # noqa: BLE001 - a stream cannot change its status any more
            log.exception("unexpected error while streaming an answer")
            yield _data(wire.error_body(f"internal error ({type(e).__name__}); the details are in the server log",
                                       "server_error"))
            yield "data: [DONE]\n\n"
            return
        answer = text.fold.answer
        if answer is not None:
            src = wire.sources_text(answer)
            if src:
                sent.append(f"\n\n{src}")
                yield _data(wire.chunk(cid, model, content_delta=sent[-1]))
            # what a client accumulates is what it will send back as history
            store.put("".join(sent), answer)
            yield _data(wire.chunk(cid, model, finish="stop", answer=answer))
        yield "data: [DONE]\n\n"

    # --- REST --------------------------------------------------------------------------------
    @api.get("/v1/search", dependencies=authed)
    def search(q: str = Query(..., min_length=1, max_length=2000), k: int = Query(10, ge=1, le=100),
               date_from: str | None = Query(None, alias="from"), date_to: str | None = Query(None, alias="to"),
               min_upvotes: int | None = Query(None, ge=0), mode: str = Query("hybrid", pattern="^(hybrid|bm25|dense)$")):
        if not q.strip():
            raise ApiError(400, "q is empty", param="q")
        res = app.search(q, k=k, filters=Filters(date_from=date_from, date_to=date_to, min_upvotes=min_upvotes),
                         mode=mode)
        return {"query": q, "mode": mode, "filter_note": res.filter_note, "hits": [h.to_dict() for h in res.hits],
                "timings_ms": res.timings}

    @api.get("/v1/papers/{paper_id}", dependencies=authed)
    def paper(paper_id: str, fmt: str = Query("json", alias="format")):
        if fmt not in PAPER_FORMATS:
            raise ApiError(400, f"format must be one of {', '.join(PAPER_FORMATS)}, got {fmt[:40]!r}",
                           param="format")
        p = app.retriever().papers.get(paper_id)
        if p is None:
            raise ApiError(404, f"no paper with id {paper_id[:80]!r} in the index", code="paper_not_found")
        if fmt == "bibtex":
            key = bibtex.bibtex_keys([p])[p.paper_id]  # letters, digits and "-": safe in a header
            return Response(bibtex.to_bibtex([p]), media_type=f"{export.BIBTEX_MEDIA_TYPE}; charset=utf-8",
                            headers={"Content-Disposition": f'inline; filename="{key}.bib"'})
        return p.to_dict()

    @api.post("/v1/ingest", dependencies=[Depends(ingest_key)])
    def ingest(files: list[UploadFile] = File(...)):  # noqa: B008 - FastAPI's way to declare uploads
        if not files:
            raise ApiError(400, "send one or more files as multipart field 'files'", param="files")
        if len(files) > MAX_UPLOAD_FILES:
            raise ApiError(413, f"{len(files)} files in one upload; send at most {MAX_UPLOAD_FILES}", param="files",
                           code="too_many_files")
        with tempfile.TemporaryDirectory(prefix="paperchat-upload-") as tmp:
            paths = []
            for i, f in enumerate(files):
                name = safe_name(f.filename or f"upload-{i}")
                path = Path(tmp) / f"{i:03d}" / name  # one folder each: two uploads may share a name
                path.parent.mkdir()
                size = _save(f, path, settings.upload_max_mb * 1024 * 1024 + 1)
                check_upload(name, size, settings)
                paths.append(path)
            try:
                corpus, report = app.ingest(paths, max_papers=settings.upload_max_papers)
            except PaperchatError as e:
                # name the file as the client knows it, not by our temp folder
                raise type(e)(re.sub(re.escape(tmp) + r"/\d{3}/", "", str(e))) from None
        return {"files": [Path(s.path).name for s in corpus.files], "records": corpus.records,
                "duplicates": corpus.duplicates, "warnings": corpus.warnings,
                "papers_total": report.papers_total, "papers_new": report.papers_new,
                "papers_changed": report.papers_changed, "papers_unchanged": report.papers_unchanged,
                "chunks_embedded": report.chunks_embedded, "generation": report.generation}

    @api.get("/healthz")
    def healthz():
        try:
            stats = app.stats()
        except PaperchatError as e:
            return JSONResponse({"status": "error", "error": " ".join(str(e).split())}, status_code=503)
        body = {"status": "ok" if stats.get("papers") else "index empty", "papers": stats.get("papers", 0),
                "generation": stats.get("generation"), "backend": default_label(settings)}
        return JSONResponse(body, status_code=200 if stats.get("papers") else 503)

    return api


def _data(obj: dict) -> str:
    """One server-sent event."""
    return f"data: {json.dumps(obj)}\n\n"


class _AnswerUnexpected:
    """An unexpected error becomes a 500 in OpenAI's shape, answered here rather than by the
    server-error layer, which re-raises and so makes the ASGI server drop the keep-alive
    connection: a client's next request would fail with "connection reset". Pure ASGI, so
    streamed responses pass through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as e:  # noqa: BLE001 - the last place an error can be answered
            log.exception("unexpected error in the API")
            if started:  # the status is sent already: end the body so the connection stays usable
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await _json_error(500, f"internal error ({type(e).__name__}); the details are in the server log",
                              "server_error")(scope, receive, send)


async def _json_body(request: Request, limit: int) -> dict:
    """The request's JSON object, read up to ``limit`` bytes: 413 past it, 400 for what is not a
    JSON object (malformed, not UTF-8, nested too deeply for the parser)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request body is {int(declared) / 1024:.0f} KB; at most {limit // 1024} KB "
                       "(PAPERCHAT_CHAT_BODY_MAX_KB)", code="request_too_large")
    raw = bytearray()
    async for block in request.stream():
        raw += block
        if len(raw) > limit:
            raise ApiError(413, f"the request body is over {limit // 1024} KB (PAPERCHAT_CHAT_BODY_MAX_KB)",
                           code="request_too_large")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not JSON") from None
    except RecursionError:
        raise ApiError(400, "the request body is nested too deeply") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object")
    return body


def _save(upload: UploadFile, path: Path, limit: float) -> int:
    """Copy an upload to ``path``, stopping once it passes ``limit`` bytes; returns bytes read."""
    size = 0
    with path.open("wb") as out:
        while block := upload.file.read(1 << 20):
            size += len(block)
            if size > limit:
                break
            out.write(block)
    return size
