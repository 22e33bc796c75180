"""Hybrid search: lexical over folded syllables, dense over embeddings, fused by reciprocal rank.

The lexical side asks PostgreSQL's full-text index for documents holding every folded syllable of
the query (any of them when none holds all), ranked by cover density; the dense side asks the
vector store for the nearest clean-text embeddings. Weighted reciprocal rank fusion scores a
document ``sum(weight / (60 + rank))`` over the lists it appears in, so neither side's score scale
matters; the dense side weighs half, because the default embedder (all-MiniLM-L6-v2) is trained on
English and strips Vietnamese marks, and at full weight it pushed exact matches down (recall@10
on the search bench's labelled queries fell below lexical search alone). A hit
carries a snippet of the clean text around the match and the matching words' times: the query's
syllables as a phrase when they occur together, else each one's first occurrence. A hit found by
meaning alone has no matching words and spans its whole transcript.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Literal

from psycopg import sql

from ai2text.errors import InputError, NotFoundError
from ai2text.search.index import COLLECTION, pair_lexeme
from ai2text.store.database import Database
from ai2text.store.vectors import Range, Scalar, VectorStore
from ai2text.text.tokens import Span, fold, syllables

Mode = Literal["hybrid", "lexical", "dense"]
QueryVector = Sequence[float] | Callable[[], Sequence[float]]
# runs a query's lexical side beside its embedding and dense side (threads wait on PostgreSQL)
_SIDE = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search-lexical")
RRF_K = 60
LEXICAL_WEIGHT, DENSE_WEIGHT = 1.0, 0.5
RANK_CAP = 300
MAX_LIMIT = 100
MAX_QUERY_CHARS = 500
SNIPPET_CONTEXT = 60


@dataclass(frozen=True)
class SearchFilters:
    speaker_id: str | None = None
    split: Literal["train", "val", "test"] | None = None
    verified: bool | None = None
    model_version: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for moment in (self.since, self.until):
            if moment is not None and moment.tzinfo is None:
                raise InputError("search dates must carry a time zone (e.g. 2026-01-01T00:00Z)")
        if self.since and self.until and self.since > self.until:
            raise InputError("the search date range is empty: since is after until")

    def equalities(self) -> dict[str, Scalar]:
        pairs = (
            ("speaker_id", self.speaker_id),
            ("split", self.split),
            ("verified", self.verified),
            ("model_version", self.model_version),
        )
        return {name: value for name, value in pairs if value is not None}

    def ranges(self) -> dict[str, Range]:
        if self.since is None and self.until is None:
            return {}
        low = self.since.timestamp() if self.since else None
        high = self.until.timestamp() if self.until else None
        return {"recorded_ts": (low, high)}

    def where(self) -> tuple[sql.Composable, dict[str, Any]]:
        """A condition on ``search_documents`` with named parameters (``f_*``)."""
        clauses: list[sql.Composable] = []
        params: dict[str, Any] = {}
        for name, value in self.equalities().items():
            clauses.append(
                sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(f"f_{name}"))
            )
            params[f"f_{name}"] = value
        for name, moment, operator in (("since", self.since, ">="), ("until", self.until, "<=")):
            if moment is not None:
                clauses.append(sql.SQL(f"recorded_at {operator} %(f_{name})s"))
                params[f"f_{name}"] = moment
        if not clauses:
            return sql.SQL("true"), {}
        return sql.SQL(" AND ").join(clauses), params


@dataclass(frozen=True)
class SearchQuery:
    text: str
    limit: int = 10
    mode: Mode = "hybrid"
    filters: SearchFilters = field(default_factory=SearchFilters)

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise InputError("the search query is empty")
        if len(self.text) > MAX_QUERY_CHARS:
            raise InputError(f"the search query is over {MAX_QUERY_CHARS} characters")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InputError(f"limit must be between 1 and {MAX_LIMIT}")

    @cached_property
    def terms(self) -> list[str]:
        """The query's folded syllables (computed once per query)."""
        return [fold(s.text) for s in syllables(self.text)]

    @property
    def needs_vector(self) -> bool:
        return self.mode != "lexical"


@dataclass(frozen=True)
class WordMatch:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class SearchHit:
    audio_id: uuid.UUID
    score: float
    snippet: str
    start: float | None
    end: float | None
    matches: tuple[WordMatch, ...]
    lexical_rank: int | None
    dense_rank: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "audio_id": str(self.audio_id),
            "score": round(self.score, 6),
            "snippet": self.snippet,
            "start": self.start,
            "end": self.end,
            "matches": [{"word": m.word, "start": m.start, "end": m.end} for m in self.matches],
            "lexical_rank": self.lexical_rank,
            "dense_rank": self.dense_rank,
        }


def _candidates(query: SearchQuery) -> int:
    return max(50, 3 * query.limit)


def _tsquery_literal(lexemes: Sequence[str]) -> str:
    """An AND of lexemes taken as they are (no parsing): ``'a_b' & 'b_c'``."""
    quoted = ("'" + x.replace("\\", "\\\\").replace("'", "''") + "'" for x in lexemes)
    return " & ".join(dict.fromkeys(quoted))


def lexical_ranking(db: Database, query: SearchQuery) -> list[uuid.UUID]:
    """Documents holding the syllables as a phrase (every adjacent pair of them, indexed as one
    lexeme each), else all of them, else any of them; ranked by cover density among the first
    ``RANK_CAP`` matches (a common pair of syllables can match a large share of the corpus, and
    ranking every match would cost time in proportion)."""
    terms = query.terms
    if not terms:
        return []
    where, params = query.filters.where()
    statement = sql.SQL(
        "SELECT m.audio_id FROM (SELECT d.audio_id, d.lexemes FROM search_documents d"
        " WHERE d.lexemes @@ {q} AND {} LIMIT %(cap)s) m"
        " ORDER BY ts_rank_cd(m.lexemes, {q}) DESC, m.audio_id"
        " LIMIT %(limit)s"
    )
    parsed = sql.SQL("to_tsquery('simple', %(q)s)")
    literal = sql.SQL("%(q)s::tsquery")
    unique = list(dict.fromkeys(terms))
    tries: list[tuple[sql.Composable, str]] = []
    if len(terms) > 1:
        pairs = [pair_lexeme(a, b) for a, b in itertools.pairwise(terms)]
        tries.append((literal, _tsquery_literal(pairs)))
    tries.append((parsed, " & ".join(unique)))
    if len(unique) > 1:
        tries.append((parsed, " | ".join(unique)))
    with db.connection() as conn, conn.transaction():
        # room for an exact bitmap of a common syllable's matches (a lossy one rechecks pages)
        conn.execute("SET LOCAL work_mem = '32MB'")
        for form, tsquery in tries:
            rows = conn.execute(
                statement.format(where, q=form),
                {"q": tsquery, "cap": RANK_CAP, "limit": _candidates(query), **params},
            ).fetchall()
            if rows:
                return [r[0] for r in rows]
    return []


def dense_ranking(
    vectors: VectorStore, vector: Sequence[float], query: SearchQuery
) -> list[uuid.UUID]:
    try:
        hits = vectors.search(
            COLLECTION,
            vector,
            limit=_candidates(query),
            filters=query.filters.equalities(),
            ranges=query.filters.ranges(),
        )
    except NotFoundError:
        return []  # nothing indexed yet
    return [uuid.UUID(str(h.payload["audio_id"])) for h in hits]


def fuse(
    rankings: Sequence[Sequence[uuid.UUID]], weights: Sequence[float] | None = None
) -> dict[uuid.UUID, float]:
    """Weighted reciprocal rank fusion (ranks from 1; every weight 1 by default)."""
    scores: dict[uuid.UUID, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank)
    return scores


def search(
    db: Database,
    vectors: VectorStore,
    query: SearchQuery,
    vector: QueryVector | None = None,
) -> list[SearchHit]:
    """The best ``query.limit`` documents; ``vector`` is the query's embedding (not needed for
    lexical search), or a function that computes it: the lexical query then runs in PostgreSQL
    while the embedding is computed and the vector store is asked."""
    if query.needs_vector and vector is None:
        raise InputError("this search mode needs the query's embedding")
    pending = _SIDE.submit(lexical_ranking, db, query) if query.mode != "dense" else None
    try:
        dense: list[uuid.UUID] = []
        if query.mode != "lexical":
            resolved = vector() if callable(vector) else vector
            dense = dense_ranking(vectors, resolved or [], query)
    finally:
        lexical = pending.result() if pending is not None else []
    scores = fuse([lexical, dense], [LEXICAL_WEIGHT, DENSE_WEIGHT])
    best = sorted(scores, key=lambda k: (-scores[k], str(k)))
    documents = _documents(db, best[: 2 * query.limit], query.filters)
    lexical_ranks = {key: rank for rank, key in enumerate(lexical, start=1)}
    dense_ranks = {key: rank for rank, key in enumerate(dense, start=1)}
    hits = []
    for key in best:
        if key not in documents:
            continue  # deleted, or outside the filters (a backend that lags the database)
        text, words = documents[key]
        hits.append(_hit(key, scores[key], text, words, query.terms, lexical_ranks, dense_ranks))
        if len(hits) == query.limit:
            break
    return hits


def _documents(
    db: Database, keys: Sequence[uuid.UUID], filters: SearchFilters
) -> dict[uuid.UUID, tuple[str, list[Any]]]:
    if not keys:
        return {}
    where, params = filters.where()
    with db.connection() as conn:
        rows = conn.execute(
            sql.SQL(
                "SELECT audio_id, text, words FROM search_documents"
                " WHERE audio_id = ANY(%(keys)s) AND {}"
            ).format(where),
            {"keys": list(keys), **params},
        ).fetchall()
    return {r[0]: (r[1], r[2] or []) for r in rows}


def _hit(
    key: uuid.UUID,
    score: float,
    text: str,
    words: Sequence[Mapping[str, Any]],
    terms: Sequence[str],
    lexical_ranks: Mapping[uuid.UUID, int],
    dense_ranks: Mapping[uuid.UUID, int],
) -> SearchHit:
    folded_words = [fold(str(w.get("word", ""))) for w in words]
    positions = _match_positions(folded_words, terms)
    matches = tuple(
        WordMatch(str(words[i]["word"]), float(words[i]["start"]), float(words[i]["end"]))
        for i in positions
    )
    start: float | None
    end: float | None
    if matches:
        start, end = matches[0].start, matches[0].end
    elif words:
        start, end = float(words[0]["start"]), float(words[-1]["end"])
    else:
        start = end = None
    return SearchHit(
        key,
        score,
        _snippet(text, terms),
        start,
        end,
        matches,
        lexical_ranks.get(key),
        dense_ranks.get(key),
    )


def _match_positions(folded: Sequence[str], terms: Sequence[str]) -> list[int]:
    """The phrase's positions where the terms occur in order, else each term's first position."""
    if not terms:
        return []
    n = len(terms)
    for i in range(len(folded) - n + 1):
        if list(folded[i : i + n]) == list(terms):
            return list(range(i, i + n))
    firsts = {t: folded.index(t) for t in set(terms) if t in folded}
    return sorted(firsts.values())


def _snippet(text: str, terms: Sequence[str]) -> str:
    spans = syllables(text)
    positions = _match_positions([fold(s.text) for s in spans], terms)
    if not positions:
        return _window(text, 0, min(len(text), 2 * SNIPPET_CONTEXT), spans)
    first, last = spans[positions[0]], spans[positions[-1]]
    return _window(text, first.start - SNIPPET_CONTEXT, last.end + SNIPPET_CONTEXT, spans)


def _window(text: str, start: int, end: int, spans: Sequence[Span]) -> str:
    """``text[start:end]`` widened to whole syllables, with an ellipsis where it was cut."""
    start, end = max(0, start), min(len(text), end)
    starts = [s.start for s in spans if s.start <= start] or [0]
    ends = [s.end for s in spans if s.end >= end] or [len(text)]
    begin, finish = starts[-1], ends[0]
    body = text[begin:finish].strip()
    return ("…" if begin > 0 else "") + body + ("…" if finish < len(text) else "")
