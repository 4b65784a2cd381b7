"""The CLI edge: a click group that turns library errors into one line and an exit code.

Shared by `paperchat` and `paperchat eval`, so user mistakes never show a traceback.
"""

from __future__ import annotations

import click

from rag.errors import PaperchatError


class OneLineErrors(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PaperchatError as e:
            click.echo(f"error: {e}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
