"""``ai2text bench search`` end to end at a tiny size: latency and recall lines for both backends.

No timing threshold here: the figures go to the README; this checks the measurement is whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ai2text.bench.search_bench import build_corpus, labelled_queries
from ai2text.config import Settings
from ai2text.text.tokens import fold, syllables

pytestmark = pytest.mark.integration


def test_bench_search_reports_latency_and_recall_per_backend(settings: Settings) -> None:
    assert settings.database_url is not None
    result = subprocess.run(
        [sys.executable, "-m", "ai2text.cli.main", "bench", "search",
         "--sizes", "300", "--queries", "40", "--backends", "pgvector,qdrant"],
        env={**os.environ, "AI2TEXT_HOME": str(settings.home),
             "AI2TEXT_DATABASE_URL": settings.database_url.get_secret_value()},
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_key = {(line["backend"], line["metric"]): line for line in lines}
    metrics = {"hybrid_latency_p50_ms", "hybrid_latency_p95_ms", "recall_at_10"}
    assert set(by_key) == {(b, m) for b in ("pgvector", "qdrant") for m in metrics}
    for line in lines:
        assert line["bench"] == "search" and line["documents"] == 300 and line["queries"] == 40
        assert line["note"]
    assert "local mode" in by_key["qdrant", "recall_at_10"]["note"]
    for backend in ("pgvector", "qdrant"):
        p50 = by_key[backend, "hybrid_latency_p50_ms"]
        p95 = by_key[backend, "hybrid_latency_p95_ms"]
        assert 0 < p50["ours"] <= p95["ours"]
        for field in ("search_without_embedding_ms", "query_embedding_ms", "dense_only_search_ms",
                      "lexical_only_search_ms"):  # fmt: skip
            assert 0 < p50[field] <= p95[field]
        assert p95["peer_value"] == 20.0 and "20 ms" in p95["peer"]
        assert p95["ratio"] == pytest.approx(p95["ours"] / 20.0, abs=0.001)
        recall = by_key[backend, "recall_at_10"]
        for field in ("ours", "peer_value", "lexical_only", "hybrid_folded", "dense_marked"):
            assert 0 <= recall[field] <= 1
        # the queries are spans copied from their documents: a working search finds most of them
        assert recall["ours"] >= 0.5 and recall["lexical_only"] >= 0.5
        assert "dense-only" in recall["peer"]
        if recall["peer_value"]:
            assert recall["ratio"] == pytest.approx(recall["ours"] / recall["peer_value"], abs=0.01)
    assert list((settings.home / "cache" / "bench-search").glob("300-*.npy"))


def test_corpus_grows_by_appending_and_queries_are_spans_of_their_targets() -> None:
    small, large = build_corpus(50), build_corpus(120)
    assert large[:50] == small and len(set(large)) == 120
    queries = labelled_queries(large, 40)
    assert len({q.target for q in queries}) == 40
    assert sum(q.folded for q in queries) == 20
    for query in queries:
        words = query.text.split()
        assert 2 <= len(words) <= 4
        source = [s.text for s in syllables(large[query.target])]
        if query.folded:
            source = [fold(s) for s in source]
        assert any(source[i : i + len(words)] == words for i in range(len(source)))
