"""Streamed prompt playback (see cti/capacity_media.py): channels of one-hour WAV files,
each read block by block from its own open file, that one core keeps fed in real time."""

from __future__ import annotations

from cti.capacity_media import play_stream


def test_play_stream_capacity(benchmark):
    r = benchmark.pedantic(play_stream, args=(True,), rounds=1, iterations=1)
    benchmark.extra_info.update(r.as_dict())
    assert r.unit == "channels/core" and r.value > 0
