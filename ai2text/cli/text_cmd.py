"""``ai2text text``: Vietnamese text tools. ``normalize``, ``itn`` and ``restore`` read lines on
stdin and write one line per input line on stdout (``--json``: the corrections with offsets)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai2text.text.rewrite import Rewritten


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
    normalize = actions.add_parser(
        "normalize",
        help="written to spoken: numbers, dates, times, money, measures, abbreviations",
        epilog="example: echo 'Ngày 15/01/2024 lúc 14h30' | ai2text text normalize",
    )
    normalize.add_argument("--remove-fillers", action="store_true", help="drop ừm, ờ, ...")
    normalize.add_argument("--json", action="store_true", help="one JSON object per line")
    normalize.set_defaults(run=run_normalize)
    inverse = actions.add_parser(
        "itn",
        help="spoken to written, for displaying ASR output",
        epilog="example: echo 'mười bốn giờ ba mươi phút' | ai2text text itn",
    )
    inverse.add_argument("--keep-fillers", action="store_true", help="keep ừm, ờ, ...")
    inverse.add_argument("--json", action="store_true", help="one JSON object per line")
    inverse.set_defaults(run=run_itn)
    restore = actions.add_parser(
        "restore",
        help="put back the tone and vowel marks of text typed without them",
        epilog="example: echo 'xin chao cac ban' | ai2text text restore",
    )
    restore.add_argument("--model", type=Path, help="a restorer file; default: the team's")
    restore.add_argument("--json", action="store_true", help="one JSON object per line")
    restore.set_defaults(run=run_restore)
    train_restorer = actions.add_parser(
        "train-restorer",
        help="train a diacritics restorer on a corpus of correctly marked sentences",
        epilog="example: ai2text text train-restorer news.txt --out restorer.json.gz",
    )
    train_restorer.add_argument("corpus", type=Path, help="UTF-8 text, one sentence per line")
    train_restorer.add_argument("--out", type=Path, required=True)
    train_restorer.add_argument("--order", type=int, default=3, help="n-gram order, 1-6")
    train_restorer.set_defaults(run=run_train_restorer)
    conformance = actions.add_parser(
        "conformance",
        help="pass rate per class on NeMo's Vietnamese test cases (written~spoken files)",
        epilog="example: ai2text text conformance ../shared/data/tn/nemo_vi",
    )
    conformance.add_argument("cases", type=Path, help="folder holding data_text_normalization/ "
                             "and data_inverse_text_normalization/")  # fmt: skip
    conformance.add_argument("--failures", action="store_true", help="list the failing cases")
    conformance.set_defaults(run=run_conformance)


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


def _lines() -> list[str]:
    return sys.stdin.read().splitlines()


def _emit(result: Rewritten, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print(result.text)


def run_normalize(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.text.postprocess import normalizer

    engine = normalizer(load_settings().text, args.remove_fillers)
    for line in _lines():
        _emit(engine.rewrite(line), args.json)
    return 0


def run_itn(args: argparse.Namespace) -> int:
    from ai2text.config import load_settings
    from ai2text.text.postprocess import inverse_normalizer

    engine = inverse_normalizer(load_settings().text, not args.keep_fillers)
    for line in _lines():
        _emit(engine.rewrite(line), args.json)
    return 0


def run_restore(args: argparse.Namespace) -> int:
    import unicodedata

    from ai2text.config import load_settings
    from ai2text.text.restorer import Restorer, default_restorer
    from ai2text.text.rewrite import word_corrections

    settings = load_settings()
    path = args.model or settings.text.restorer_path
    restorer = Restorer.load(path) if path else default_restorer(settings.home / "cache")
    for line in _lines():
        source = unicodedata.normalize("NFC", line)
        _emit(word_corrections(source, restorer.restore(source), "diacritics"), args.json)
    return 0


def run_train_restorer(args: argparse.Namespace) -> int:
    import time

    from ai2text.errors import InputError
    from ai2text.text.restorer import Restorer

    if not args.corpus.is_file():
        raise InputError(f"no corpus file at {args.corpus}")
    try:
        sentences = args.corpus.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{args.corpus} is not UTF-8 text: {exc}") from exc
    started = time.perf_counter()
    restorer = Restorer.train(sentences, order=args.order)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    restorer.save(args.out)
    print(json.dumps({"sentences": len(sentences), "vocabulary": len(restorer.lm.vocabulary),
                      "seconds": round(time.perf_counter() - started, 2), "out": str(args.out)},
                     ensure_ascii=False))  # fmt: skip
    return 0


def run_conformance(args: argparse.Namespace) -> int:
    from ai2text.text.conformance import conformance_report

    print(json.dumps(conformance_report(args.cases, args.failures), ensure_ascii=False, indent=2))
    return 0
