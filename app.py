"""The web chat: `python app.py [--host HOST] [--port PORT]` (the same as `assistant serve`)."""

from __future__ import annotations

import argparse
import sys

from assistant.cli.main import add_serve_options
from assistant.errors import AssistantError
from assistant.web.server import serve


def main() -> int:
    parser = argparse.ArgumentParser(description="Article Assistant web chat")
    add_serve_options(parser)
    parser.add_argument("--index", default=None, help="index folder (default: ASSISTANT_INDEX_DIR or 'index')")
    args = parser.parse_args()
    try:
        serve(host=args.host, port=args.port, index_dir=args.index, allow_anonymous=args.allow_anonymous, mcp=args.mcp)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
