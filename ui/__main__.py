"""``python -m ui [--host H] [--port P] [--share] [--home DIR]``: serve the web UI."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rag.errors import PaperchatError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Serve the paperchat web UI.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: %(default)s)")
    parser.add_argument(
        "--share", action="store_true", help="create a public Gradio share link (off by default)"
    )
    parser.add_argument("--home", type=Path, default=None, help="data directory (default: $PAPERCHAT_HOME)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        from rag.settings import load_settings
        from ui.app import launch

        launch(load_settings(home=args.home), host=args.host, port=args.port, share=args.share)
    except PaperchatError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
