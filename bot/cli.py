"""`python -m bot` (also `madoguchi`): ask, chat, kb check/schema, eval, report.

Other packages add commands through the `madoguchi.commands` entry point
group (the adapters add `serve` and `line richmenu`), so the core never
imports them.

The global options (`--knowledge`, and `--council`/`--audience` for the
commands that answer) work before or after the subcommand, because people
type them in both places; an option that does not apply, or that does not
exist, is named in the error rather than swallowed with the words around it.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from bot.answer import Answer, Option
from bot.assistant import Assistant, UnknownCouncil
from bot.knowledge.loader import check_knowledge, default_root, load_knowledge
from bot.knowledge.model import Knowledge
from bot.knowledge.problems import KnowledgeError
from bot.retrieval.encoder import EncoderStatus, load_encoder
from bot.retrieval.rerank import stale as rerank_stale
from bot.language.keystore import open_keys
from bot.retrieval.vectors import open_vectors
from bot.render import to_text

__all__ = ["main", "answer_json", "build_parser", "parse_args"]

_SCOPED = (("council", "--council"), ("audience", "--audience"))  # global, but only where a command takes them


class UsageError(Exception):
    """A command line that cannot run as given (message for the user in `args[0]`)."""


def answer_json(answer: Answer) -> dict:
    """The JSON contract of `ask --json`: one object per question."""
    return {
        "council": answer.council_id,
        "query": answer.query,
        "kind": answer.kind,
        "results": [{"id": o.id, "title": o.title, "score": o.score} for o in answer.results],
        "text": to_text(answer),
    }


def _assistant(args: argparse.Namespace) -> Assistant:
    keys = open_keys()
    knowledge = load_knowledge(args.knowledge, cache=None if keys is None else keys.folder)
    if getattr(args, "council", "") is None:  # before the indexes are built: a usage error comes at once
        args.council = _default_council(knowledge, command=args.command)
    return Assistant(knowledge, vectors=open_vectors(knowledge.root, _encoder().encoder), keys=keys,
                     councils=frozenset([args.council]) if getattr(args, "council", None) else None)


def _default_council(knowledge: Knowledge, *, command: str) -> str:
    """MADOGUCHI_COUNCIL, or the only council; with several, asking for one beats guessing."""
    chosen = os.environ.get("MADOGUCHI_COUNCIL", "").strip()
    councils = knowledge.councils
    if chosen:
        return chosen
    if len(councils) == 1:
        return next(iter(councils))
    listing = "\n".join(f"  {cid:<12} {c.name}" for cid, c in sorted(councils.items()))
    raise UsageError(f"{command} needs --council (or MADOGUCHI_COUNCIL): the knowledge has {len(councils)} councils:\n"
                     f"{listing}")


def _encoder() -> EncoderStatus:
    status = load_encoder()
    if not status.on:
        print(f"madoguchi: answering lexically only: {status.reason}", file=sys.stderr)
    return status


def cmd_kb_embed(args: argparse.Namespace, out: TextIO) -> int:
    """Fill the vector cache ahead of time, so no start or reload waits for encoding."""
    knowledge = load_knowledge(args.dir or args.knowledge)
    status = _encoder()
    if status.encoder is None:
        out.write(f"no encoder: {status.reason}\n")
        return 1
    vectors = open_vectors(knowledge.root, status.encoder)
    assistant = Assistant(knowledge, vectors=vectors)
    assert vectors is not None
    kept = vectors.save(keep=assistant.embedded_texts())
    out.write(f"{len(vectors)} vectors ({vectors.encoded} newly encoded) in {vectors.path}"
              + ("" if kept else " (not written: see the log)") + "\n")
    return 0 if kept else 1


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    assistant = _assistant(args)
    questions: Sequence[str] = args.question
    if questions == ["-"]:
        questions = (line.rstrip("\n") for line in sys.stdin if line.strip())  # type: ignore[assignment]
    for question in questions:  # each the first message of a chat: 「ありがとう」 closes, as on LINE
        answer = (assistant.follow_up(args.council, question, last_service=None, audience=args.audience)
                  or assistant.ask(args.council, question, audience=args.audience))
        if args.json:
            out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n")
            out.flush()
        else:
            out.write(to_text(answer) + "\n\n")
    return 0


def cmd_chat(args: argparse.Namespace, out: TextIO) -> int:
    from bot.decision.followup import conversation_words
    from bot.render import window_lines

    assistant = _assistant(args)
    council = assistant.council(args.council)
    words = conversation_words(assistant.knowledge)
    out.write(f"{council.name}の窓口です。質問をどうぞ（番号で選択、空行で終了）。\n")
    choices: tuple[Option, ...] = ()
    last_service: str | None = None
    while True:
        try:
            line = input("> ").strip()
        except EOFError:
            break
        if not line:
            break
        number = unicodedata.normalize("NFKC", line).removesuffix("番")
        if number.isdigit() and choices:
            n = int(number)
            if not 1 <= n <= len(choices):  # say so, and keep the choices
                out.write(words.out_of_range.format(number=n, count=len(choices)) + "\n")
                out.write("\n".join(f"{i}. {o.title}" for i, o in enumerate(choices, 1)) + "\n")
                continue
            answer = assistant.pick(args.council, choices[n - 1].id, audience=args.audience)
        else:
            answer = (assistant.follow_up(args.council, line, last_service=last_service, audience=args.audience)
                      or assistant.ask(args.council, line, audience=args.audience))
        if answer.reason == "followup" and answer.service is not None:
            out.write("\n".join([answer.message, *window_lines(answer.service.window)]) + "\n")
            continue
        choices = answer.choices
        last_service = answer.service.id if answer.service is not None else None
        out.write(to_text(answer) + "\n")
    return 0


def cmd_kb_check(args: argparse.Namespace, out: TextIO) -> int:
    from bot.knowledge.wording import line, say

    result = check_knowledge(args.dir or args.knowledge)
    shown = [p for p in result.problems if p.severity == "error" or not args.quiet]
    k = result.knowledge
    counts = {"errors": len(result.errors), "warnings": len(result.warnings)}
    if k is not None:
        counts |= {"councils": len(k.councils), "services": len(k.services), "drafts": len(k.drafts)}
    if args.format == "json":
        problems = [{"severity": p.severity, "file": p.file, "line": p.line, "field": p.field,
                     "message": say(p, lang=args.lang), "message_en": p.message} for p in shown]
        out.write(json.dumps({"ok": not result.errors, **counts, "problems": problems}, ensure_ascii=False) + "\n")
        return 1 if result.errors else 0
    for p in shown:
        out.write(line(p, lang=args.lang) + "\n")
    if args.lang == "en":
        summary = f"{counts['errors']} error(s), {counts['warnings']} warning(s)"
        if k is not None:
            summary += f"; {len(k.councils)} councils, {len(k.services)} services, {len(k.drafts)} drafts"
    else:
        summary = f"エラー {counts['errors']} 件・警告 {counts['warnings']} 件"
        if k is not None:
            summary += f"（{len(k.councils)} 社協・{len(k.services)} サービス・下書き {len(k.drafts)} 件）"
    encoder = load_encoder()
    if args.lang == "en":
        summary += "; meaning search: " + (encoder.model if encoder.on else f"off ({encoder.reason})")
    else:
        summary += "\n意味での検索: " + ("使えます（" + encoder.model + "）" if encoder.on
                                     else f"使えません。言葉の一致だけで答えます（{encoder.reason}）")
    if k is not None and encoder.on and rerank_stale(k):
        summary += ("; reranker fitted on other knowledge (refit: benchmarks/fit_rerank.py)" if args.lang == "en"
                    else "。候補の並べ替えモデルは今の知識と別の内容で作られています（benchmarks/fit_rerank.py で作り直せます）")
    if k is not None and encoder.on and not args.quiet:
        flagged = Assistant(k, vectors=open_vectors(k.root, encoder.encoder)).examples_read_as_danger()
        for sid, example, level, margin in flagged:
            file = k.services[sid].path
            if args.lang == "en":
                what = "an emergency" if level == "emergency" else "a worry (a kind line is added)"
                out.write(f"warning: {file}: examples: the danger check would treat this as {what} "
                          f"(margin {margin:+.3f}): {example}\n")
            elif level == "emergency":
                out.write(f"警告: {file}: examples: 「{example}」は緊急の相談として扱われます（差 {margin:+.3f}）。"
                          "言い方を変えるか、危険のない例だと分かるようにしてください\n")
            else:
                out.write(f"警告: {file}: examples: 「{example}」には心配ごととして相談先が1行添えられます"
                          f"（差 {margin:+.3f}）。添えなくてよい例なら、言い方を変えてください\n")
    out.write(summary + "\n")
    return 1 if result.errors else 0


def cmd_kb_schema(args: argparse.Namespace, out: TextIO) -> int:
    from bot.knowledge.schema import bundle

    out.write(json.dumps(bundle(), ensure_ascii=False, indent=2) + "\n")
    return 0


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from bot.evaluation.report import run

    files = args.file or [None]
    missing = [str(f) for f in files if f is not None and not f.exists()]
    if missing:
        raise UsageError(f"eval: no such question set: {', '.join(missing)}")
    for i, file in enumerate(files):
        if len(files) > 1:
            out.write(("\n" if i else "") + f"== {file}\n")
        run(knowledge=args.knowledge, questions=file, baselines=not args.no_baselines, out=out,
            failures=args.failures)
    return 0


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    from bot.querylog.report import run

    return run(council=args.council, since=args.since, data_dir=args.data_dir, out=out)


def cmd_report_feedback(args: argparse.Namespace, out: TextIO) -> int:
    from bot.querylog.feedback import run

    return run(council=args.council, since=args.since, data_dir=args.data_dir, knowledge=args.knowledge, out=out)


def _add_knowledge(p: argparse.ArgumentParser) -> None:
    p.add_argument("--knowledge", type=Path, default=argparse.SUPPRESS, metavar="DIR",
                   help=f"knowledge folder (default: MADOGUCHI_KNOWLEDGE, else {default_root()})")


def _add_council(p: argparse.ArgumentParser, *, audience: bool = True) -> None:
    p.add_argument("--council", default=argparse.SUPPRESS,
                   help="council id, a folder name in the knowledge (default: MADOGUCHI_COUNCIL, or the only one)")
    if audience:
        p.add_argument("--audience", choices=["resident", "staff"], default=argparse.SUPPRESS,
                       help="staff also gets staff-only entries (default: resident)")


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser under `parser` (itself included), groups such as `kb` and leaves such as `kb check`."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # aliases map to the same parser
                found += _parsers(child)
    return found


def build_parser(*, plugins: bool = True) -> argparse.ArgumentParser:
    """Every command; with `plugins` False only the core's own (the plug-ins' imports, with
    importlib.metadata's, took 0.06 s of every `ask`)."""
    parser = argparse.ArgumentParser(
        prog="madoguchi", description="社協の窓口アシスタント Madoguchi",
        epilog="--knowledge, --council and --audience may be given before or after the command.")
    _add_council(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer questions ('-' reads one per line from stdin)")
    _add_council(ask)
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("question", nargs="+")
    ask.set_defaults(func=cmd_ask)

    chat = sub.add_parser("chat", help="an interactive session in the terminal")
    _add_council(chat)
    chat.set_defaults(func=cmd_chat)

    kb = sub.add_parser("kb", help="knowledge tools").add_subparsers(dest="kb_command", required=True)
    check = kb.add_parser("check", help="validate the knowledge; non-zero exit on errors")
    check.add_argument("dir", nargs="?", type=Path)
    check.add_argument("--quiet", action="store_true", help="print errors only")
    check.add_argument("--lang", choices=["ja", "en"], default="ja", help="language of the messages (default: ja)")
    check.add_argument("--format", choices=["text", "json"], default="text", help="json: one object for tools")
    check.set_defaults(func=cmd_kb_check)
    kb.add_parser("schema", help="print the JSON Schema of the files").set_defaults(func=cmd_kb_schema)
    embed = kb.add_parser("embed", help="encode the knowledge's texts into the vector cache ahead of time")
    embed.add_argument("dir", nargs="?", type=Path, help="knowledge folder (default: the bundled one)")
    embed.set_defaults(func=cmd_kb_embed)

    ev = sub.add_parser("eval", help="measure answer quality on labelled question sets")
    ev.add_argument("file", nargs="*", type=Path, help="question sets (default: tests/eval/questions.yaml)")
    ev.add_argument("--no-baselines", action="store_true")
    ev.add_argument("--failures", type=int, default=0, help="print up to N misses")
    ev.set_defaults(func=cmd_eval)

    report = sub.add_parser("report", help="reports from the query log").add_subparsers(dest="report", required=True)
    un = report.add_parser("unanswered", help="questions that got fallback or choices, grouped")
    _add_council(un, audience=False)
    un.add_argument("--since", default="30d")
    un.add_argument("--data-dir", type=Path)
    un.set_defaults(func=cmd_report)
    fb = report.add_parser("feedback", help="はい／いいえ answers to 役に立った？, with the answers residents said no to")
    _add_council(fb, audience=False)
    fb.add_argument("--since", default="30d")
    fb.add_argument("--data-dir", type=Path)
    fb.set_defaults(func=cmd_report_feedback)

    if plugins:
        from importlib.metadata import entry_points

        for ep in entry_points(group="madoguchi.commands"):
            register: Callable[[argparse._SubParsersAction], None] = ep.load()
            register(sub)
    for p in _parsers(parser):  # after the plug-ins, so `serve --knowledge DIR` works too
        _add_knowledge(p)
        p.set_defaults(_parser=p)
    return parser


def parse_args(argv: Sequence[str] | None = None, *, env: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Parse like argparse, then say which option is wrong and fill in the global defaults."""
    e = os.environ if env is None else env
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(plugins=False)
    if not _core_command(parser, argv):
        parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    here: argparse.ArgumentParser = args._parser
    if extras:
        options = [a for a in extras if a.startswith("-") and a != "-"]
        if options:
            known = sorted(o for o in here._option_string_actions if o.startswith("--"))
            near = difflib.get_close_matches(options[0].split("=")[0], known, n=1)
            here.error(f"unknown option {options[0]}" + (f" (did you mean {near[0]}?)" if near else "")
                       + f"; this command takes {', '.join(known)}")
        words = any(a.dest == "question" for a in here._actions)
        here.error(f"unexpected argument {extras[0]!r}" + (": give all the words of a question together, after "
                                                           "the options (in quotes if it has spaces)" if words else ""))
    for dest, flag in _SCOPED:
        if dest in vars(args) and flag not in here._option_string_actions:
            here.error(f"{flag} does not apply to '{here.prog}'")
    defaults = {"knowledge": Path(e["MADOGUCHI_KNOWLEDGE"]) if e.get("MADOGUCHI_KNOWLEDGE") else None,
                "council": None, "audience": "resident"}
    for dest, value in defaults.items():
        if dest not in vars(args):
            setattr(args, dest, value)
    del args._parser
    return args


def _core_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> bool:
    """Whether `argv` names one of the core's commands (after the global options and their
    values): then no plug-in is loaded. Anything else, help included, sees every command."""
    commands = next(a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word in commands
        option = parser._option_string_actions.get(word)
        if option is None and word.split("=", 1)[0] not in parser._option_string_actions:
            return False
        if option is not None and option.nargs != 0:
            next(words, None)  # its value (`--option=value` is one word)
    return False


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    args = parse_args(argv)
    out = out or sys.stdout
    try:
        return args.func(args, out)
    except KnowledgeError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except (UnknownCouncil, UsageError) as exc:
        sys.stderr.write(f"{exc.args[0]}\n")
        return 2
