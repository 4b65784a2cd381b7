"""``python -m cli`` runs the ``paperchat`` command line."""

from cli.main import main

main(prog_name="paperchat")
