"""The CLI edge: one line per error, and nothing from paper text that can drive a terminal.

Shared by `paperchat` and `paperchat eval`, so neither a library error nor a usage mistake shows
a traceback or click's four-line usage block: ``error: <what> (see 'paperchat ask --help')``.
Every string the CLI prints goes through :func:`echo`, which replaces control characters (ANSI
escapes from a hostile title, a model's output or a file name) with U+FFFD.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

from rag.errors import PaperchatError
from rag.text.sanitize import terminal_safe


class Styled(str):
    """Text already cleaned and then styled by :func:`styled`: its escapes are our own."""


def echo(message: Any = "", **kwargs: Any) -> None:
    """``click.echo`` for text that may hold paper or model text: control characters are replaced
    (except in :class:`Styled` text, which was cleaned before its style was added)."""
    if message is not None and not isinstance(message, Styled):
        message = terminal_safe(str(message))
    click.echo(message, **kwargs)


def styled(message: str, **style: Any) -> Styled:
    """Clean ``message``, then style it, so only our own escapes reach the terminal."""
    return Styled(click.style(terminal_safe(message), **style))


def _fail(message: str, code: int) -> None:
    echo(f"error: {' '.join(message.split())}", err=True)
    sys.exit(code)


class OneLineErrors(click.Group):
    """A click group whose every failure is one line on stderr and an exit code:
    1 for library errors, 2 for usage errors, 130 for Ctrl-C."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as e:
            where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
            _fail(e.format_message() + where, 2)
        except click.ClickException as e:
            _fail(e.format_message(), e.exit_code)
        except PaperchatError as e:
            _fail(str(e), 1)
        except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
            _fail("interrupted", 130)
        sys.exit(rv if isinstance(rv, int) else 0)


def exit_process(code: object) -> None:
    """End the process with ``code`` (as ``sys.exit`` takes it). When a native model runtime was
    loaded (llama.cpp), the interpreter's teardown is skipped: its threads may still be inside
    the library (a summary stopped at its time budget stops at the model's next token, and a
    loaded CPU can take seconds to reach it), and tearing Python down under them ends the
    process with SIGSEGV or SIGABRT after the answer was printed. Everything the CLI writes is
    flushed first; nothing else is pending at this point (files are closed as they are written)."""
    if isinstance(code, int):
        status = code
    elif code is None:
        status = 0
    else:  # sys.exit("message") prints it and exits 1
        echo(str(code), err=True)
        status = 1
    if "xllamacpp" not in sys.modules:
        sys.exit(status)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            pass
    os._exit(status)
