"""The lab with several spans per trunk type (``LabOptions.spans_per_trunk``)."""

from __future__ import annotations

import pytest

from cti.lab import Lab, LabOptions, run_lab


def test_calls_spread_over_every_span_of_every_trunk_type(tmp_path):
    report = run_lab(LabOptions(calls=12, agents=4, seed=5, interarrival_s=1.0,
                                talk_s=(1.0, 2.0), spans_per_trunk=2,
                                cdr_path=str(tmp_path / "cdr.csv")))
    assert report["errors"] == []
    calls = report["calls"]
    assert calls["offered"] == 12 and calls["answered"] + calls["abandoned"] + calls[
        "failed"] == 12
    sig = report["signalling"]
    for name in ("pstn-pri", "pstn-pri-2", "pstn-isup", "pstn-isup-2", "pstn-r2", "pstn-r2-2"):
        assert sig[name]["placed"] == 2, name
    for name in ("cc-pri", "cc-pri-2", "cc-isup", "cc-isup-2", "cc-r2", "cc-r2-2"):
        assert sig[name]["offered"] == 2, name


@pytest.mark.parametrize("spans", [0, 6])
def test_spans_per_trunk_bounds(spans):
    with pytest.raises(ValueError, match="spans_per_trunk"):
        Lab(LabOptions(spans_per_trunk=spans))
