"""The search index of transcripts: a lexical row and a dense vector per recording.

A recording is indexed from its shown transcript (verified first, else the newest machine one):
``search_documents`` holds the clean text, the word times and a ``tsvector`` of diacritic-folded
syllables of both the clean and the raw text (so ``xin chao`` and ``2`` / ``hai`` all find it);
the vector store holds the clean text's embedding under the audio id, with the filter fields as
payload. With pgvector both writes join the caller's transaction; with Qdrant the keyed upsert
makes a repeat harmless.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Sequence
from typing import Any

from ai2text.search.embedder import MAX_CHARS, Embed
from ai2text.store.database import Conn
from ai2text.store.vectors import VectorPoint, VectorStore
from ai2text.text.tokens import fold, syllables

COLLECTION = "transcripts"

_SHOWN = """
SELECT a.id, a.speaker_id, a.split, a.created_at, t.model_version, t.verified,
       coalesce(nullif(t.text_clean, ''), t.text), t.text, t.words,
       (SELECT m.words FROM transcripts m
         WHERE m.audio_id = a.id AND m.words <> '[]'::jsonb
         ORDER BY m.updated_at DESC LIMIT 1)
FROM audio a
JOIN LATERAL (
    SELECT * FROM transcripts t WHERE t.audio_id = a.id AND t.status = 'done'
    ORDER BY t.verified DESC, t.updated_at DESC LIMIT 1
) t ON true
"""
_SOURCE = _SHOWN + "WHERE a.id = %s FOR UPDATE OF a"


def shown_texts(conn: Conn, audio_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The text each recording's index entry would show (what :func:`index_recording` embeds)."""
    rows = conn.execute(_SHOWN + "WHERE a.id = ANY(%s)", (list(audio_ids),)).fetchall()
    return {r[0]: str(r[6]) for r in rows if r[6]}


_UPSERT = """
INSERT INTO search_documents (audio_id, model_version, speaker_id, split, verified, recorded_at,
                              text, words, lexemes)
VALUES (%(audio_id)s, %(version)s, %(speaker)s, %(split)s, %(verified)s, %(recorded_at)s,
        %(text)s, %(words)s,
        to_tsvector('simple', %(folded)s) || array_to_tsvector(%(pairs)s::text[]))
ON CONFLICT (audio_id) DO UPDATE SET
    model_version = EXCLUDED.model_version, speaker_id = EXCLUDED.speaker_id,
    split = EXCLUDED.split, verified = EXCLUDED.verified, recorded_at = EXCLUDED.recorded_at,
    text = EXCLUDED.text, words = EXCLUDED.words, lexemes = EXCLUDED.lexemes, indexed_at = now()
"""


def lexical_text(*texts: str) -> str:
    """What the lexical vector is built from: the folded texts, each syllable once is enough."""
    return " ".join(fold(t) for t in texts if t)


def pair_lexeme(first: str, second: str) -> str:
    """The lexeme of two adjacent folded syllables (``"xin_chao"``)."""
    return f"{first}_{second}"


def syllable_pairs(*texts: str) -> list[str]:
    """The lexemes of each text's adjacent folded syllables, added to the lexical vector: a
    phrase query becomes an AND of rare pairs instead of common syllables whose every shared
    document must be rechecked for positions."""
    pairs: set[str] = set()
    for text in texts:
        folded = [fold(s.text) for s in syllables(text)]
        pairs.update(pair_lexeme(a, b) for a, b in itertools.pairwise(folded))
    return sorted(pairs)


def index_recording(
    conn: Conn, vectors: VectorStore, embed: Embed, audio_id: uuid.UUID
) -> dict[str, Any] | None:
    """(Re)index a recording from its shown transcript; None when it has none to index (yet)."""
    row = conn.execute(_SOURCE, (audio_id,)).fetchone()
    if row is None:
        return None
    _, speaker, split, recorded_at, version, verified, text, raw, words, machine_words = row
    if not text:
        return None
    shown_words: list[Any] = words or machine_words or []
    conn.execute(
        _UPSERT,
        {
            "audio_id": audio_id,
            "version": version,
            "speaker": speaker,
            "split": split,
            "verified": verified,
            "recorded_at": recorded_at,
            "text": text,
            "words": json.dumps(shown_words, ensure_ascii=False),
            "folded": lexical_text(text, raw if raw != text else ""),
            "pairs": syllable_pairs(text, raw if raw != text else ""),
        },
    )
    payload = {
        "audio_id": str(audio_id),
        "model_version": version,
        "verified": bool(verified),
        "recorded_ts": recorded_at.timestamp(),
        **({"speaker_id": speaker, "split": split} if speaker else {}),
    }
    (vector,) = embed([text[:MAX_CHARS]])
    vectors.upsert(COLLECTION, [VectorPoint(str(audio_id), vector, payload)], conn=conn)
    return payload


def unindex_recording(conn: Conn, vectors: VectorStore, audio_id: uuid.UUID) -> None:
    """Remove a recording's lexical row and vector (both idempotent)."""
    conn.execute("DELETE FROM search_documents WHERE audio_id = %s", (audio_id,))
    if vectors.exists(COLLECTION):
        vectors.delete(COLLECTION, [str(audio_id)], conn=conn)
