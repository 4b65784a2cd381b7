"""``paperchat eval``: run the evaluation, or compare two runs. A thin face over eval.run/compare.

Attached to the main CLI as ``main.add_command(eval_group, "eval")``; also runnable on its own
(``python -m eval.cli``). Library errors become one line on stderr and exit code 1.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from cli.output import OneLineErrors, echo


def _split(value: str) -> list[str]:
    return [s.strip() for s in value.split(",") if s.strip()]


@click.group(cls=OneLineErrors, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--split", type=click.Choice(["tune", "final"]), default=None,
              help="Only the gold items of this split (sets with a locked split, e.g. eval/gold-lists.jsonl).")
@click.option("--gold", "gold_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Gold JSONL file (default: the bundled eval/gold.jsonl).")
@click.option("--systems", default="hybrid,bm25,dense,llamaindex", show_default=True,
              help="Retrieval systems, comma-separated: hybrid, bm25, dense, llamaindex (stock LlamaIndex).")
@click.option("--answers", is_flag=True, help="Also evaluate answers (runs the LLM on every question).")
@click.option("--answer-systems", default=None,
              help="Answer systems, comma-separated: ours, ours-plain (list route off), ours-rules (rule "
                   "list judge), ours-fitted / ours-reader-only (the lexical judge / the reading judge alone; see eval/systems.py), ours-bm25 / ours-dense (one retriever), ours-llamaindex (the product through its LlamaIndex door), llamaindex (stock; default: ours, plus llamaindex when it "
                   "is among --systems and an LLM is configured).")
@click.option("--backend", type=click.Choice(["auto", "local", "openai", "openai-compatible", "none"]), default=None,
              help="LLM backend for --answers (default: auto from the environment).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Run directory for results.json, report.md and plots (default: $PAPERCHAT_HOME/eval/runs/<time>).")
@click.option("-k", "k", type=click.IntRange(1, 1000), default=10, show_default=True, help="Retrieval depth.")
@click.option("--bootstrap", "n_boot", type=click.IntRange(1, 100000), default=1000, show_default=True,
              help="Bootstrap resamples for the confidence intervals.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bars on stderr.")
@click.pass_context
def eval_group(ctx: click.Context, split: str | None, gold_path: Path | None, systems: str, answers: bool, answer_systems: str | None,
               backend: str | None, out_dir: Path | None, k: int, n_boot: int, seed: int, progress: bool) -> None:
    """Evaluate retrieval (and with --answers, answers) on the gold set; `eval compare A B` compares runs."""
    if ctx.invoked_subcommand is not None:
        return
    from eval.gold import DEFAULT_GOLD, GoldError, load_gold
    from eval.report import fmt_ci
    from eval.run import run_eval
    from rag.paperchat import Paperchat
    from rag.settings import load_settings

    home = (ctx.obj or {}).get("home") if isinstance(ctx.obj, dict) else None
    settings = load_settings(home=home, llm_backend=backend)
    gold_file = gold_path or DEFAULT_GOLD
    items = load_gold(gold_file)
    if split:
        items = [it for it in items if it.split == split]
        if not items:
            raise GoldError(f"{gold_file}: no items in split {split!r}")
    out_dir = out_dir or settings.home / "eval" / "runs" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    app = Paperchat(settings)
    results = run_eval(app, items, _split(systems), k=k, answers=answers, out_dir=out_dir, progress=progress,
                       answer_systems=_split(answer_systems) if answer_systems else None, n_boot=n_boot,
                       seed=seed, gold_source=str(gold_file), log=lambda m: echo(m, err=True))
    ret = results["retrieval"]
    if ret:
        names = results["meta"]["retrieval_metrics"]
        echo("\nretrieval (answerable questions, mean [95% CI]):")
        width = max(len(s) for s in ret) + 2
        echo(" " * width + "  ".join(f"{m:<22}" for m in names))
        for s, block in ret.items():
            echo(f"{s:<{width}}" + "  ".join(f"{fmt_ci(block['overall'][m]):<22}" for m in names))
    for t in results["targets"]:
        if t["status"] != "n/a":
            echo(f"target {t['name']} {t['op']} {t['threshold']}: {t['status']} ({t['value']:.3f})")
    echo(f"\nreport: {Path(out_dir) / 'report.md'}")


@eval_group.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path, exists=True))
@click.argument("run_b", type=click.Path(path_type=Path, exists=True))
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the comparison to this markdown file.")
def compare(run_a: Path, run_b: Path, out_file: Path | None) -> None:
    """Metric differences (B - A) per system between two run directories."""
    from eval.compare import compare_runs

    text = compare_runs(run_a, run_b)
    if out_file is not None:
        out_file.write_text(text + "\n", encoding="utf-8")
    echo(text)


if __name__ == "__main__":  # pragma: no cover
    eval_group(prog_name=Path(sys.argv[0]).name)
