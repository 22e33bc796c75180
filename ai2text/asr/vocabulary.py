"""Output vocabularies: Vietnamese characters (NFC), or SentencePiece BPE pieces.

A character model needs 4x subsampling: written Vietnamese runs at 15-20 characters per second of
speech and CTC needs a frame per label. 8x subsampling (12.5 frames/s) needs BPE pieces, which
cover several characters each.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ai2text.errors import InputError

BASE_LETTERS = "abcdefghijklmnopqrstuvwxyzđăâêôơư"
VOWELS = "aăâeêioôơuưy"
TONES = ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
WORD_PIECE_START = "\u2581"  # SentencePiece's word-start marker


def vietnamese_characters() -> list[str]:
    """Space, apostrophe, the 33 base letters and the 60 toned vowels, all NFC."""
    toned = [unicodedata.normalize("NFC", v + t) for v in VOWELS for t in TONES]
    return [" ", "'", *BASE_LETTERS, *toned]


@dataclass(frozen=True)
class Vocabulary:
    """Labels of a CTC model; the blank is the index after the last label (NeMo's convention)."""

    labels: tuple[str, ...]
    kind: str  # "char" or "bpe"

    @property
    def blank(self) -> int:
        return len(self.labels)

    def starts_word(self, token: int) -> bool:
        return self.kind == "bpe" and self.labels[token].startswith(WORD_PIECE_START)

    def is_separator(self, token: int) -> bool:
        return self.kind == "char" and self.labels[token] == " "

    def text(self, tokens: Iterable[int]) -> str:
        joined = "".join(self.labels[t] for t in tokens)
        if self.kind == "bpe":
            joined = joined.replace(WORD_PIECE_START, " ")
        return " ".join(joined.split())


def char_vocabulary() -> Vocabulary:
    return Vocabulary(tuple(vietnamese_characters()), "char")


def out_of_vocabulary(text: str, vocabulary: Vocabulary) -> set[str]:
    """Characters of a (normalized) transcript a character model cannot emit."""
    if vocabulary.kind != "char":
        return set()
    allowed = set(vocabulary.labels)
    return {c for c in text if c not in allowed}


def train_bpe(sentences: Iterable[str], out_dir: Path, vocab_size: int = 512) -> Path:
    """Train SentencePiece BPE on normalized sentences; return ``out_dir/tokenizer.model``."""
    import sentencepiece as spm

    from ai2text.text.transcript import normalize_transcript

    lines = [normalize_transcript(s) for s in sentences]
    lines = [line for line in lines if line]
    if len(lines) < 10:
        raise InputError("BPE training needs at least 10 sentences")
    out_dir.mkdir(parents=True, exist_ok=True)
    text_file = out_dir / "bpe_train.txt"
    text_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(text_file),
        model_prefix=str(out_dir / "tokenizer"),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        normalization_rule_name="identity",
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        minloglevel=2,
    )
    text_file.unlink()
    _write_nemo_vocab(out_dir)
    return out_dir / "tokenizer.model"


def _write_nemo_vocab(out_dir: Path) -> None:
    """NeMo's SentencePiece tokenizer also reads ``vocab.txt``: word-start pieces without their
    marker, the others prefixed with ``##`` (as NeMo's own ``create_spt_model`` writes it)."""
    tokens = []
    for line in (out_dir / "tokenizer.vocab").read_text(encoding="utf-8").splitlines():
        piece = line.split("\t")[0]
        if piece in {"<unk>", "<s>", "</s>", "<pad>"}:
            continue
        token = piece[1:] if piece.startswith(WORD_PIECE_START) else f"##{piece}"
        tokens.append(token or piece[0])
    (out_dir / "vocab.txt").write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
