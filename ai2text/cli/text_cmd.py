"""``ai2text text``: Vietnamese text tools (generate now; normalize, itn, restore to come)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("text", help="Vietnamese text tools")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    generate = actions.add_parser(
        "generate",
        help="training sentences: the team corpus, template sentences and random syllable runs",
        epilog="example: ai2text text generate --templates 8000 --random 4000 --seed 1 "
        "--out train.txt",
    )
    generate.add_argument("--templates", type=int, default=8000)
    generate.add_argument("--random", type=int, default=4000)
    generate.add_argument("--seed", type=int, default=0)
    generate.add_argument("--no-corpus", action="store_true", help="leave out the team's sentences")
    generate.add_argument("--out", type=Path, required=True)
    generate.set_defaults(run=run_generate)


def run_generate(args: argparse.Namespace) -> int:
    from ai2text.errors import InputError
    from ai2text.text.corpus import corpus_sentences
    from ai2text.text.generator import generate_corpus

    if args.templates < 0 or args.random < 0:
        raise InputError("--templates and --random must not be negative")
    held_out = frozenset(corpus_sentences("heldout"))
    lines = [] if args.no_corpus else corpus_sentences("train")
    lines += generate_corpus(args.templates, args.random, args.seed, held_out)
    unique = list(dict.fromkeys(lines))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(unique) + "\n", encoding="utf-8")
    print(f"{len(unique)} sentences written to {args.out}")
    return 0
