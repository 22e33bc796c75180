"""``ai2text transcribe`` and ``ai2text eval``: the ASR engine from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai2text.asr.transcriber import Transcriber
    from ai2text.cli.context import Platform


def _decoding_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a registry version or a .nemo path; default: production")
    parser.add_argument("--decoder", choices=["greedy", "beam"], default="greedy")
    parser.add_argument("--beam-size", type=int, default=8)
    parser.add_argument(
        "--lm",
        help="syllable LM for beam search: a .json.gz file, 'default' (the team corpus) or 'none'",
        default="none",
    )
    parser.add_argument("--lm-weight", type=float, default=0.5)
    parser.add_argument("--word-bonus", type=float, default=1.0)


def register(commands: Any) -> None:
    transcribe = commands.add_parser(
        "transcribe",
        help="transcribe audio files (wav, mp3, m4a, flac, ogg, opus, 8 kHz telephone)",
        epilog="example: ai2text transcribe --format srt --decoder beam --lm default call.mp3",
    )
    _decoding_arguments(transcribe)
    transcribe.add_argument("--format", choices=["jsonl", "text", "srt", "vtt"], default="jsonl")
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE")
    transcribe.set_defaults(run=run_transcribe)
    evaluate = commands.add_parser(
        "eval",
        help="WER, CER, tone and diacritic error rates on a NeMo manifest",
        epilog="example: ai2text eval --manifest test/manifest.jsonl --decoder beam --lm default",
    )
    _decoding_arguments(evaluate)
    evaluate.add_argument("--manifest", type=Path, required=True)
    evaluate.add_argument(
        "--per-utterance", type=Path, help="write one JSON line per utterance here"
    )
    evaluate.set_defaults(run=run_eval)


@contextmanager
def _transcriber(args: argparse.Namespace, platform: Platform) -> Iterator[Transcriber]:
    from ai2text.asr.ctc import BeamOptions
    from ai2text.asr.model import load_model
    from ai2text.asr.transcriber import DecodingOptions, Transcriber
    from ai2text.errors import InputError
    from ai2text.text.corpus import default_syllable_lm
    from ai2text.text.syllable_lm import SyllableLM

    if args.beam_size < 1:
        raise InputError("--beam-size must be positive")
    lm = None
    if args.lm == "default":
        lm = default_syllable_lm(platform.settings.home / "lm")
    elif args.lm != "none":
        lm = SyllableLM.load(Path(args.lm))
    if lm is not None and args.decoder != "beam":
        raise InputError("--lm needs --decoder beam")
    path, version = platform.registry.resolve(args.model)
    decoding = DecodingOptions(
        method=args.decoder,
        beam=BeamOptions(
            beam_size=args.beam_size, lm_weight=args.lm_weight, word_bonus=args.word_bonus
        ),
    )
    with Transcriber(
        load_model(path), model_version=version, lm=lm, decoding=decoding
    ) as transcriber:
        yield transcriber


def run_transcribe(args: argparse.Namespace) -> int:
    from ai2text.asr.formats import to_srt, to_vtt, transcript_json
    from ai2text.audio.transcoder import load_audio
    from ai2text.cli.context import open_platform
    from ai2text.errors import AudioDecodeError

    failures = 0
    with open_platform() as platform, _transcriber(args, platform) as transcriber:
        for path in args.files:
            try:
                audio = load_audio(path, platform.settings.audio)
            except AudioDecodeError as exc:
                failures += 1
                print(f"ai2text: error: {path}: {exc.message}", file=sys.stderr)
                if args.format == "jsonl":
                    error = {"code": exc.code, "message": exc.message}
                    print(json.dumps({"audio": str(path), "error": error}, ensure_ascii=False))
                continue
            (transcript,) = transcriber.transcribe([audio.samples])
            if args.format == "jsonl":
                print(json.dumps(transcript_json(transcript, str(path)), ensure_ascii=False))
            elif args.format == "text":
                print(transcript.text)
            elif args.format == "srt":
                print(to_srt(transcript))
            else:
                print(to_vtt(transcript))
    return 2 if failures else 0


def run_eval(args: argparse.Namespace) -> int:
    from ai2text.cli.context import open_platform
    from ai2text.data.manifest import read_manifest
    from ai2text.eval.evaluate import score_rows
    from ai2text.eval.metrics import score_corpus

    rows = read_manifest(args.manifest)
    with open_platform() as platform, _transcriber(args, platform) as transcriber:
        scored = score_rows(transcriber, rows, platform.settings.audio)
        if args.per_utterance:
            with open(args.per_utterance, "w", encoding="utf-8") as handle:
                for item in scored:
                    line = {
                        "audio": item.row.audio_filepath,
                        "reference": item.row.text,
                        "hypothesis": item.transcript.text,
                        "wer": round(item.score.wer, 4),
                        "cer": round(item.score.cer, 4),
                    }
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
        result: dict[str, Any] = {**score_corpus([s.score for s in scored]).to_json()}
        result.update(
            {"model_version": transcriber.model_version, "decoder": args.decoder, "lm": args.lm}
        )
        print(json.dumps(result, ensure_ascii=False))
    return 0
