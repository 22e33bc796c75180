"""``ai2text bench bus`` runs both sides in one run and reports them with their ratio.

No timing threshold here: the figures go to the README; this checks the measurement is whole."""

from __future__ import annotations

import pytest

from ai2text.bench.bus_bench import bench_bus
from ai2text.config import Settings


@pytest.mark.integration
def test_bench_reports_ours_the_floor_and_their_ratio(settings: Settings) -> None:
    result = bench_bus(settings, events=600, consumers=2, batch=50).to_json()
    assert result["bench"] == "bus" and result["metric"] == "events_per_s"
    assert result["consumers"] == 2 and result["events"] == 600
    assert result["ours"] > 0 and result["peer_value"] > 0
    assert result["ratio"] == pytest.approx(result["ours"] / result["peer_value"], rel=0.01)
    assert "INSERT/DELETE" in result["peer"]
