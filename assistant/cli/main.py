"""The `assistant` command: a thin layer that turns arguments into Assistant calls and errors
into messages and exit codes.

Exit codes: 0 done; 1 an error (the message says what to do); 2 bad usage; 3 `ask` found no
answer in the articles; 4 done, but some files were rejected (listed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from assistant.errors import AssistantError, InputError

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.records import Answer, IndexHealth, IngestReport, JSONObject
    from assistant.settings import Settings

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NO_ANSWER, EXIT_REJECTED = 0, 1, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="assistant", description="Answer questions about news articles, citing the exact source sentences."
    )
    p.add_argument("--index", help="index folder (default: ASSISTANT_INDEX_DIR or 'index')")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    s = sub.add_parser("ingest", help="add or update articles from files, folders, pages and feeds (by URL)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s = sub.add_parser("rebuild", help="make the index mirror a folder: add, update, remove")
    s.add_argument("folder", nargs="?", help="default: ASSISTANT_ARTICLES_DIR or 'articles'")
    s.add_argument("--reset", action="store_true", help="drop the index first (e.g. after changing the model)")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("remove", help="remove articles by id")
    s.add_argument("ids", nargs="+")
    s = sub.add_parser("watch", help="rebuild whenever files arrive, change or vanish; add new items of feeds")
    s.add_argument("folder", nargs="?", help="the folder to mirror (default: the articles folder, unless --feed)")
    s.add_argument(
        "--interval", type=positive_seconds, default=2.0, help="seconds between checks of the folder (default 2)"
    )
    s.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS or Atom feed (repeatable)")
    s.add_argument(
        "--every", type=positive_seconds, default=300.0, help="seconds between polls of the feeds (default 300)"
    )
    s = sub.add_parser("ask", help="answer one question")
    s.add_argument("question")
    s.add_argument("--json", action="store_true", help="print the answer, citations and trace as JSON")
    s.add_argument("--article", action="append", dest="articles", help="only this article id (repeatable)")
    s = sub.add_parser("chat", help="chat in the terminal (follow-up questions use the history)")
    s.add_argument("--article", action="append", dest="articles", help="only this article id (repeatable)")
    s = sub.add_parser("status", help="effective settings (secrets masked), counts, embedding model")
    s.add_argument("--json", action="store_true")
    s = sub.add_parser("eval", help="measure retrieval, answers, citations and refusals on a dataset")
    s.add_argument("dataset", help="questions JSONL; its documents in <name>.docs.jsonl beside it")
    s.add_argument("--baseline", action="store_true", help="also run the plain LangChain recipe")
    s.add_argument(
        "--plain",
        action="store_true",
        help="also ask the same chat model plainly (same text, a short answer, no checks): the floor to beat",
    )
    s.add_argument(
        "--answerer",
        choices=["local", "openai", "extractive"],
        help="which answerer to measure (default: ASSISTANT_ANSWERER or the automatic choice)",
    )
    s.add_argument(
        "--condense",
        choices=["model", "conversation", "named"],
        help="follow-ups rewritten by the chat model, read with the earlier turns, or read with them and their "
        "pronoun replaced by the last turn's name (default: ASSISTANT_CONDENSE)",
    )
    s.add_argument(
        "--half",
        choices=["fit", "report", "all"],
        default="all",
        help="only the questions of the fit or the report half (split by document: eval/splits.json; default all)",
    )
    s.add_argument(
        "--oracle",
        action="store_true",
        help="answer each question with its gold documents in scope instead of the whole index "
        "(with --plain, the plain recipe reads the gold text)",
    )
    s.add_argument("--limit", type=int, help="only the first N questions (of the half)")
    s.add_argument("--out", default="docs", help="where results go (default docs/)")
    s.add_argument("--traces", help="also write every answer's full trace to this JSONL file, to read the failures")
    s = sub.add_parser("serve", help="start the web chat")
    add_serve_options(s)
    s = sub.add_parser("model", help="the shared local model server: status, or stop it now")
    s.add_argument("action", choices=["status", "stop"])
    return p


def add_serve_options(p: argparse.ArgumentParser) -> None:
    """`assistant serve` and `python app.py` take the same options."""
    p.add_argument("--host", default=None, help="default 127.0.0.1 (this machine only)")
    p.add_argument("--port", type=port_number, default=None, help="default 7860 (or ASSISTANT_PORT)")
    p.add_argument(
        "--allow-anonymous",
        action="store_true",
        help="serve beyond this machine without ASSISTANT_AUTH (anyone who reaches it can upload and remove articles)",
    )
    p.add_argument(
        "--mcp",
        action="store_true",
        default=None,
        help="also serve MCP tools for agents at /gradio_api/mcp/ (or ASSISTANT_MCP=1); see docs/integrations.md",
    )


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time: use seconds, more than 0 and at most 86400")
    return value


def port_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use a whole number from 1 to 65535")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    from assistant.settings import Settings

    return Settings.from_env(**({"index_dir": args.index} if args.index else {}))


def _assistant(args: argparse.Namespace) -> Assistant:
    from assistant.assistant import Assistant

    return Assistant(settings=_settings(args))


def _run(args: argparse.Namespace) -> int:
    cmd = args.command
    if cmd == "serve":
        from assistant.web.server import serve

        serve(host=args.host, port=args.port, index_dir=args.index, allow_anonymous=args.allow_anonymous, mcp=args.mcp)
        return EXIT_OK
    if cmd == "model":
        from assistant.cli.model import model_command

        return model_command(args.action, _settings(args))
    if cmd == "eval":
        from assistant.evaluation.run import run_eval

        return run_eval(
            args.dataset,
            answerer=args.answerer,
            baseline=args.baseline,
            limit=args.limit,
            out=args.out,
            index_override=args.index,
            traces=args.traces,
            condense=args.condense,
            plain=args.plain,
            half=args.half,
            oracle=args.oracle,
        )
    if cmd == "rebuild" and args.reset:
        from assistant.client import drop_index
        from assistant.indexing.write.locking import write_lock

        with write_lock(_settings(args)):  # readers of other processes finish first, then follow the new index
            drop_index(_settings(args))
    bot = _assistant(args)
    if cmd == "ingest":
        return _report(bot.ingest(args.paths, progress=_progress()), args.json)
    if cmd == "rebuild":
        return _report(bot.rebuild(args.folder, progress=_progress()), args.json)
    if cmd == "remove":
        return _report(bot.remove([_text(i, "article id") for i in args.ids]), False)
    if cmd == "watch":
        from assistant.indexing.sources.files import max_bytes
        from assistant.indexing.watch.feeds import FeedWatcher
        from assistant.indexing.watch.watch import watch

        settings = _settings(args)
        feeds = (
            FeedWatcher(
                [_text(f, "feed address") for f in args.feed],
                max_bytes=max_bytes(settings.max_file_mb),
                timeout=settings.request_timeout,
                allow_private=settings.allow_private_urls,
            )
            if args.feed
            else None
        )
        folder = args.folder or (None if feeds else bot.info().articles_dir)
        watch(bot, folder, args.interval, lambda r: _report(r, False), feeds=feeds, every=args.every)
        return EXIT_OK
    if cmd == "ask":
        question = _text(args.question, "question")
        ans = bot.answer(question, article_ids=_known_ids(bot, args.articles))
        if args.json:
            print(json.dumps(answer_json(ans), indent=2, ensure_ascii=False))
        else:
            print(format_answer(ans))
        return EXIT_OK if ans.answered else EXIT_NO_ANSWER
    if cmd == "chat":
        from assistant.cli.chat import chat

        chat(bot, article_ids=args.articles)
        return EXIT_OK
    if cmd == "status":
        status = bot.status()
        if args.json:
            print(json.dumps(status.to_dict(), indent=2, default=str))
        else:
            for key, value in status.to_dict().items():
                if key not in ("settings", "health"):
                    print(f"{key:16} {value}")
            print(f"{'health':16} {health_line(status.health)}")
            print("settings:")
            for key, value in status.settings.items():
                print(f"  {key:18} {value}")
        return EXIT_OK
    raise AssertionError(cmd)


def health_line(health: IndexHealth) -> str:
    if not health.needs_sweep:
        return "ok"
    what = "a write was interrupted (a crash or a kill)" if health.interrupted_write else "records were left over"
    return (
        f"needs a sweep: {what}; {health.orphan_chunks} chunk and {health.orphan_sentences} sentence records belong "
        "to no current article. Answers ignore them; the next ingest or rebuild sweeps them away "
        "(run: assistant rebuild)"
    )


def _text(value: str, what: str) -> str:
    """An argument as given; bytes that are not UTF-8 reach Python as lone surrogates."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(
            f"the {what} is not valid UTF-8 text; check the terminal's encoding (e.g. LANG=C.UTF-8) and type it again"
        ) from None
    return value


def _known_ids(bot: Assistant, ids: list[str] | None) -> list[str] | None:
    """`--article` ids, each checked against the index: an unknown one is an error, not an empty answer."""
    if not ids:
        return None
    ids = [_text(i, "article id") for i in ids]
    known = sorted(a.id for a in bot.articles())
    missing = [i for i in ids if i not in known]
    if missing:
        some = ", ".join(known[:10]) + (f" (and {len(known) - 10} more)" if len(known) > 10 else "")
        raise InputError(
            f"no article with id {', '.join(repr(m) for m in missing)} in the index; "
            + (f"the index has: {some}" if known else "the index is empty")
        )
    return ids


def _progress() -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=0, unit="article", desc="indexing", file=sys.stderr, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _report(report: IngestReport, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.summary() + f" ({report.seconds:.1f} s)")
        for r in report.rejected:
            print(f"  rejected {r.path}: {r.reason}")
    return EXIT_REJECTED if report.rejected else EXIT_OK


def format_answer(ans: Answer) -> str:
    lines = [ans.text]
    for n, c in enumerate(ans.citations, 1):
        lines.append(f"  [{n}] {c.title} (sentence {c.sentence_index + 1}): {c.text}")
    return "\n".join(lines)


def answer_json(ans: Answer) -> JSONObject:
    return {
        "text": ans.text,
        "answered": ans.answered,
        "citations": [asdict(c) for c in ans.citations],  # every field of the citation, in its order
        "trace": ans.trace.to_dict(),
    }


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
