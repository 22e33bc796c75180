"""``ai2text synth``: Vietnamese speech from text with espeak-ng, plus a NeMo manifest."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    from ai2text.audio.voices import VARIANTS, VOICES

    parser = commands.add_parser(
        "synth",
        help="synthesize Vietnamese speech (16 kHz WAV + manifest.jsonl) from a text file",
        description="One utterance per non-empty line; voice, variant, rate and pitch are drawn "
        "per line from a seeded generator.",
        epilog="example: ai2text synth --text-file sentences.txt --out /tmp/synth --seed 7 "
        "--noise-snr 10 30 --speed 0.9 1.1",
    )
    parser.add_argument("--text-file", type=Path, required=True, help="UTF-8, one sentence a line")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--voice", choices=VOICES, action="append", help="repeat for several; default all"
    )
    parser.add_argument(
        "--variant", choices=[*VARIANTS, "default"], action="append", help="repeat; default all"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=int, nargs=2, metavar=("LOW", "HIGH"), default=(135, 185))
    parser.add_argument("--pitch", type=int, nargs=2, metavar=("LOW", "HIGH"), default=(35, 65))
    parser.add_argument("--noise-snr", type=float, nargs=2, metavar=("LOW_DB", "HIGH_DB"))
    parser.add_argument("--noise-probability", type=float, default=1.0)
    parser.add_argument("--gain", type=float, nargs=2, metavar=("LOW_DB", "HIGH_DB"))
    parser.add_argument("--speed", type=float, nargs=2, metavar=("LOW", "HIGH"))
    parser.add_argument(
        "--workers", type=int, default=1, help="processes (espeak-ng is per process)"
    )
    parser.add_argument("--limit", type=int, help="only the first N sentences")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ai2text.audio.synth import SynthOptions, read_sentences, synthesize
    from ai2text.errors import InputError

    sentences = read_sentences(args.text_file)
    if args.limit is not None:
        if args.limit < 1:
            raise InputError("--limit must be positive")
        sentences = sentences[: args.limit]
    if args.workers < 1:
        raise InputError("--workers must be positive")
    variants = (
        tuple(None if v == "default" else v for v in args.variant)
        if args.variant
        else SynthOptions().variants
    )
    options = SynthOptions(
        voices=tuple(args.voice) if args.voice else SynthOptions().voices,
        variants=variants,
        rate_wpm=tuple(args.rate),
        pitch=tuple(args.pitch),
        seed=args.seed,
        noise_snr_db=tuple(args.noise_snr) if args.noise_snr else None,
        noise_probability=args.noise_probability,
        gain_db=tuple(args.gain) if args.gain else None,
        speed=tuple(args.speed) if args.speed else None,
    )
    report = synthesize(sentences, args.out, options, workers=args.workers, progress=not args.quiet)
    print(
        json.dumps(
            {
                "manifest": str(report.manifest),
                "utterances": report.utterances,
                "hours": round(report.hours, 4),
                "speakers": report.speakers,
                "skipped": len(report.skipped),
            },
            ensure_ascii=False,
        )
    )
    return 0
