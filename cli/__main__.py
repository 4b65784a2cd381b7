"""``python -m cli`` runs the ``paperchat`` command line."""

from cli.main import run

run()
