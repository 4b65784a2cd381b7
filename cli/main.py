"""`paperchat` command line: wires the library to click. Library errors become one line on stderr
and an exit code (``cli.output``), here only. Other packages add commands through the
``paperchat.commands`` entry point group (the eval harness registers ``paperchat eval``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from cli.output import OneLineErrors, echo, exit_process, styled
from rag.answer.export import FORMATS
from rag.backends import CHOICES


def _settings(ctx: click.Context, **overrides):
    from rag.settings import load_settings

    return load_settings(home=ctx.obj.get("home"), **overrides)


def _app(ctx: click.Context, **overrides):
    from rag.paperchat import Paperchat

    return Paperchat(_settings(ctx, **overrides))


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=click.Path(path_type=Path), default=None,
              help="Data directory (default: $PAPERCHAT_HOME or ~/.paperchat).")
@click.version_option(package_name="paperchat")
@click.pass_context
def main(ctx: click.Context, home: Path | None) -> None:
    """Ask questions about ML paper abstracts and get answers with verified citations."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--replace", is_flag=True, help="Index exactly these files, dropping papers not in them.")
@click.option("--json", "as_json", is_flag=True, help="Print the ingest report as JSON.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[Path, ...], replace: bool, as_json: bool) -> None:
    """Parse page dumps / JSONL / CSV (default: the bundled seeds) and index them."""
    corpus, report = _ingest_with_bar(_app(ctx), list(paths) or None, as_json, replace=replace)
    if as_json:
        echo(json.dumps(_ingest_dict(corpus, report), indent=2))
        return
    _print_ingest(corpus, report)


def _ingest_with_bar(app, paths: list[Path] | None, as_json: bool, *, replace: bool = False):
    """``app.ingest`` with an embedding progress bar on stderr (none with --json)."""
    from tqdm import tqdm

    bar: list[tqdm] = []

    def progress(done: int, total: int) -> None:
        if total == 0:
            return
        if not bar:
            bar.append(tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr,
                            disable=as_json or None))
        bar[0].update(done - bar[0].n)

    try:
        return app.ingest(paths, replace=replace, progress=progress)
    finally:
        if bar:
            bar[0].close()


def _ingest_dict(corpus, report) -> dict:
    return {"files": [f.__dict__ for f in corpus.files], "records": corpus.records,
            "duplicates": corpus.duplicates, "warnings": corpus.warnings, **report.__dict__}


def _print_ingest(corpus, report) -> None:
    for w in corpus.warnings:
        echo(f"warning: {w}", err=True)
    skipped = sum(f.skipped for f in corpus.files)
    if skipped:
        echo(f"warning: {skipped} record{'s' if skipped != 1 else ''} skipped (see above)", err=True)
    echo(f"parsed {corpus.records} records from {len(corpus.files)} files: "
               f"{len(corpus.papers)} unique papers, {corpus.duplicates} duplicates merged")
    if report.up_to_date:
        echo(f"index up to date: {report.papers_total} papers ({report.seconds:.1f}s)")
    else:
        echo(f"indexed {report.papers_total} papers ({report.papers_new} new, {report.papers_changed} changed, "
                   f"{report.papers_unchanged} unchanged): {report.chunks_embedded} chunks embedded, "
                   f"{report.chunks_reused} reused, in {report.seconds:.1f}s")


# --- fetch: papers from an API, then ingested like any file --------------------------------------


@main.group()
def fetch() -> None:
    """Fetch papers from Hugging Face Daily Papers or arXiv and add them to the index.

    Requests are polite (PAPERCHAT_FETCH_DELAY_S apart), retried, and cached under the home
    directory, so a rerun after an interruption asks only for what it does not have."""


def _fetch_options(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print the fetch and ingest report as JSON.")(f)
    f = click.option("--refresh", is_flag=True,
                     help="Ask the API again even for replies in the cache (fresh upvotes, new results).")(f)
    return f


@fetch.command("hf")
@click.option("--from", "date_from", required=True, help="First day, YYYY-MM-DD.")
@click.option("--to", "date_to", default=None, help="Last day, YYYY-MM-DD (default: the --from day).")
@_fetch_options
@click.pass_context
def fetch_hf(ctx: click.Context, date_from: str, date_to: str | None, refresh: bool, as_json: bool) -> None:
    """Hugging Face Daily Papers of each day from --from to --to (PAPERCHAT_HF_API_URL)."""
    from rag.fetch.run import fetch_hf as run

    settings = _settings(ctx)
    with _request_bar("Daily Papers", "day", as_json) as progress:
        result = run(settings, date_from, date_to, refresh=refresh, progress=progress)
    _ingest_fetched(ctx, settings, result, as_json)


@fetch.command("arxiv")
@click.argument("ids", nargs=-1)
@click.option("--query", default=None, help='An arXiv search query, e.g. "all:warmup AND cat:cs.LG".')
@click.option("--max", "max_results", type=click.IntRange(1, 30_000), default=100, show_default=True,
              help="Most results of --query to fetch.")
@click.option("--sort", type=click.Choice(["relevance", "submitted", "updated"]), default="relevance",
              show_default=True, help="Order of --query results (submitted/updated: newest first).")
@_fetch_options
@click.pass_context
def fetch_arxiv(ctx: click.Context, ids: tuple[str, ...], query: str | None, max_results: int, sort: str,
                refresh: bool, as_json: bool) -> None:
    """arXiv papers by IDS (2401.01234, arXiv:..., abs URLs) or by --query (PAPERCHAT_ARXIV_API_URL)."""
    from rag.fetch.run import fetch_arxiv as run

    settings = _settings(ctx)
    with _request_bar("arXiv", "request", as_json) as progress:
        result = run(settings, ids, query, max_results, sort=sort, refresh=refresh, progress=progress)
    _ingest_fetched(ctx, settings, result, as_json)


class _request_bar:
    """A tqdm bar on stderr over the requests of a fetch (none with --json); the total may grow."""

    def __init__(self, desc: str, unit: str, as_json: bool) -> None:
        self.desc, self.unit, self.as_json = desc, unit, as_json
        self.bar = None

    def __enter__(self):
        def progress(done: int, total: int) -> None:
            from tqdm import tqdm

            if self.bar is None:
                self.bar = tqdm(total=total, unit=self.unit, desc=self.desc, file=sys.stderr,
                                disable=self.as_json or None)
            if self.bar.total != total:
                self.bar.total = total
                self.bar.refresh()
            self.bar.update(done - self.bar.n)

        return progress

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


def _ingest_fetched(ctx: click.Context, settings, result, as_json: bool) -> None:
    """Ingest what a fetch wrote (incrementally: other papers stay) and report both steps."""
    from rag.paperchat import Paperchat

    corpus = report = None
    if result.files:
        corpus, report = _ingest_with_bar(Paperchat(settings), result.files, as_json)
    if as_json:
        echo(json.dumps({"fetch": result.to_dict(),
                         "ingest": _ingest_dict(corpus, report) if corpus is not None else None}, indent=2))
        return
    for w in result.warnings:
        echo(f"warning: {w}", err=True)
    echo(f"fetched {result.papers} paper{'s' if result.papers != 1 else ''} into {len(result.files)} "
         f"file{'s' if len(result.files) != 1 else ''} under {settings.fetched_dir} ({result.requests} "
         f"request{'s' if result.requests != 1 else ''}, {result.cached} from the cache)")
    if corpus is not None:
        _print_ingest(corpus, report)
    else:
        echo("nothing to add to the index")


def _filters(date_from: str | None, date_to: str | None, min_upvotes: int | None):
    from rag.types.papers import Filters

    return Filters(date_from=date_from, date_to=date_to, min_upvotes=min_upvotes)


def _filter_options(f):
    f = click.option("--min-upvotes", type=int, default=None, help="Only papers with at least N upvotes.")(f)
    f = click.option("--to", "date_to", default=None, help="Only papers dated on or before YYYY-MM-DD.")(f)
    f = click.option("--from", "date_from", default=None, help="Only papers dated on or after YYYY-MM-DD.")(f)
    return f


@main.command()
@click.argument("query")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Papers to show.")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True)
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def search(ctx: click.Context, query: str, k: int, mode: str, date_from, date_to, min_upvotes, as_json: bool) -> None:
    """Show the papers that best match QUERY (no LLM involved)."""
    from rag.text.sanitize import check_question

    if not query.strip():
        raise click.UsageError("QUERY is empty")
    check_question(query, "query")
    filters = _filters(date_from, date_to, min_upvotes)
    res = _app(ctx).search(query, k=k, filters=filters, mode=mode)
    if as_json:
        echo(json.dumps({"query": query, "mode": mode, "filter_note": res.filter_note,
                               "hits": [h.to_dict() for h in res.hits], "timings_ms": res.timings}, indent=2))
        return
    if res.filter_note:
        echo(res.filter_note, err=True)
    if not res.hits:
        echo("no matching papers")
        return
    for h in res.hits:
        meta = " · ".join(x for x in (h.paper.date or h.paper.date_text,
                                      f"{h.paper.upvotes} upvotes" if h.paper.upvotes is not None else None) if x)
        echo(f"{h.rank:>2}. {h.paper.title}  [{h.paper.paper_id}]")
        echo(f"    score {h.score:.4f}" + (f" · {meta}" if meta else ""))
        snippet = h.best_chunk if len(h.best_chunk) <= 240 else h.best_chunk[:237] + "..."
        echo(f"    {snippet}")


def _short_label(line):
    """A quote or list line labelled with the paper's short title (the full one is in the
    citations list), so the answer leads with what the papers say."""
    from dataclasses import replace

    from rag.text.titles import short_title

    return replace(line, label=short_title(line.label)) if line.kind in ("quote", "item") and line.label else line


def _print_excluded(answer) -> None:
    """A list answer's near-misses: considered, not listed, closest first, with why."""
    if not answer.excluded:
        return
    echo(styled("\nconsidered, not listed (closest first; \"include the 2nd one\" pins one back):", bold=True))
    for i, e in enumerate(answer.excluded, start=1):
        echo(f"{i}. {e.title} ({e.paper_id}) - {e.reason}")
        if e.quote:
            echo(styled(f"   “{e.quote}”", dim=True))


def _print_answer_stream(events, quiet: bool, explain: bool = False):
    """Print an answer as it streams (``rag.answer.stream.TextStream``: quote and list lines as they
    arrive, the model's summary only once verified, nothing twice); return the Answer.
    ``quiet``: print nothing, only fold the answer (for the whole-answer formats)."""
    from rag.answer.stream import TextStream

    text = TextStream(label=_short_label)
    for ev in events:
        lines = text.add(ev)
        if quiet:
            if text.fold.done:
                break
            continue
        if ev.type == "sources":
            echo(styled(f"sources: {len(ev.sources or [])} papers retrieved", dim=True), err=True)
        elif ev.type == "token" and len(text.fold.draft) == len(ev.text):
            echo(styled("summarising the evidence...", dim=True), err=True)
        elif ev.type == "note":
            echo(styled(f"note: {ev.text}", fg="yellow"), err=True)
        if text.revised and ev.type == "done" and lines:  # the verified answer replaces what streamed
            echo(styled(lines[0], dim=True))
            lines = lines[1:]
        for line in lines:
            echo(line)
        if text.fold.done:
            break
    answer = text.fold.answer
    if answer is None:
        raise click.ClickException("no answer was produced")
    if quiet:
        return answer
    for note in answer.notes:
        if note.startswith("removed"):
            echo(styled(f"note: {note}", fg="yellow"), err=True)
    if answer.citations:
        echo(styled("\ncitations:", bold=True))
        for c in answer.citations:
            mark = "verified" if c.supported else "UNVERIFIED"
            echo(f"[{c.n}] {c.title} ({c.paper_id}) - {mark}")
    if explain:
        _print_excluded(answer)
    echo(styled(f"backend: {answer.backend} · {answer.timings.get('total_s', 0):.2f}s", dim=True), err=True)
    return answer


@main.command()
@click.argument("question")
@click.option("-k", "k", type=click.IntRange(1, 50), default=None, help="Papers retrieved for the answer.")
@_filter_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="text (default: streamed, with the citations list), markdown (the answer and numbered "
                   "references), bibtex (one entry per cited paper) or json.")
@click.option("--json", "as_json", is_flag=True,
              help="Same as --format json: {answer, lines, citations, refused, backend, timings, ...}.")
@click.option("--backend", type=click.Choice(CHOICES), default=None,
              help="LLM backend (default: auto from the environment).")
@click.option("--explain", is_flag=True,
              help="For a list answer, also show the papers considered and not listed, and why.")
@click.pass_context
def ask(ctx: click.Context, question: str, k, date_from, date_to, min_upvotes, fmt: str | None, as_json: bool,
        backend, explain: bool) -> None:
    """Answer QUESTION with citations to the indexed papers."""
    if not question.strip():
        raise click.UsageError("QUESTION is empty")
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt} disagree; give one of them")
    fmt = "json" if as_json else (fmt or "text")
    app = _app(ctx, llm_backend=backend)
    events = app.ask_stream(question, k=k, filters=_filters(date_from, date_to, min_upvotes))
    answer = _print_answer_stream(events, quiet=fmt != "text", explain=explain)
    if fmt == "text":
        return
    if fmt == "json":
        echo(json.dumps(answer.to_dict(), indent=2))
        return
    from rag.answer import bibtex, export

    papers = app.papers_by_id(c.paper_id for c in answer.citations)
    if fmt == "markdown":
        echo(export.to_markdown(answer, papers), nl=False)
        return
    cited = export.cited_papers(answer, papers)
    if not cited:
        echo("note: the answer cites no paper, so there is no BibTeX entry", err=True)
        return
    echo(bibtex.to_bibtex(cited), nl=False)


@main.command()
@click.option("-k", "k", type=click.IntRange(1, 50), default=None)
@click.option("--backend", type=click.Choice(CHOICES), default=None)
@click.pass_context
def chat(ctx: click.Context, k, backend) -> None:
    """Interactive chat that keeps history (follow-ups like "what about the second one?")."""
    from rag.errors import PaperchatError

    app = _app(ctx, llm_backend=backend)
    history = []
    # a line that is not UTF-8 becomes an error for that question, not the end of the session
    if hasattr(sys.stdin, "reconfigure"):
        sys.stdin.reconfigure(errors="surrogateescape")
    echo("paperchat - ask about the indexed papers; empty line or Ctrl-D to quit, /new to reset.")
    while True:
        try:
            q = input("you> ").strip()
        except EOFError:
            break
        if not q:
            break
        if q == "/new":
            history.clear()
            echo("(history cleared)")
            continue
        try:
            history.append(_print_answer_stream(app.ask_stream(q, history=history, k=k), quiet=False))
        except PaperchatError as e:
            echo(f"error: {e}", err=True)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=7860, show_default=True, type=int)
@click.option("--share", is_flag=True, help="Create a public Gradio share link (off by default).")
@click.option("--allow-no-auth", is_flag=True,
              help="Serve on a non-loopback address (or a share link) without a login (anyone who reaches it may use it).")
@click.pass_context
def ui(ctx: click.Context, host: str, port: int, share: bool, allow_no_auth: bool) -> None:
    """Start the web UI (Gradio) on HOST:PORT. PAPERCHAT_API_KEYS or PAPERCHAT_AUTH asks for a login."""
    from ui.app import launch

    launch(_settings(ctx), host=host, port=port, share=share, allow_no_auth=allow_no_auth)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--allow-no-auth", is_flag=True,
              help="Serve on a non-loopback address without PAPERCHAT_API_KEYS (anyone who reaches it may use it).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, allow_no_auth: bool) -> None:
    """Serve the HTTP API (OpenAI-compatible chat with citations, /v1/search, /v1/papers, /v1/ingest)
    and the web UI at / in one process."""
    from api.serve import serve as run

    run(_settings(ctx), host=host, port=port, allow_no_auth=allow_no_auth)


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """What the index holds."""
    s = _app(ctx).stats()
    if as_json:
        echo(json.dumps(s, indent=2))
        return
    for key, value in s.items():
        if key == "dates" and isinstance(value, dict):
            from rag.text.dates import describe_counts

            head, *more = describe_counts(value)
            echo(f"dates: {head}")
            for line in more:
                echo(line)
            continue
        echo(f"{key}: {value}")


@main.command()
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show the effective settings (secrets masked), sections as section.field."""
    from rag.settings_sections import Section

    s = _settings(ctx)
    for name, fld in type(s).model_fields.items():
        value = getattr(s, name)
        if isinstance(value, Section):
            for sub, subfld in type(value).model_fields.items():
                echo(f"{name}.{sub} = {getattr(value, sub)!r}    # {subfld.description or ''}".rstrip(" #"))
            continue
        if name in ("openai_api_key", "api_keys") and value is not None:
            value = "****"
        if name.endswith(("base_url", "api_url")) and value:
            from rag.text.sanitize import public_url

            value = public_url(value)  # a password or token in the URL is a secret too
        if name == "auth" and value is not None:
            value = value.split(":", 1)[0] + ":****"
        echo(f"{name} = {value}    # {fld.description or ''}".rstrip(" #"))
    echo(f"# resolved LLM backend: {s.resolved_backend()}")


def _attach_plugins() -> None:
    """Commands other packages register under the ``paperchat.commands`` entry point group."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="paperchat.commands"):
        try:
            main.add_command(ep.load(), ep.name)
        except ImportError:  # a package installed without its optional dependencies
            continue


_attach_plugins()


def run() -> None:
    """The ``paperchat`` program: :func:`main`, then an exit that a loaded model cannot crash
    (:func:`cli.output.exit_process`). Tests call :func:`main` itself."""
    try:
        main(prog_name="paperchat")
    except SystemExit as e:
        exit_process(e.code)
    exit_process(0)


if __name__ == "__main__":  # pragma: no cover
    run()
