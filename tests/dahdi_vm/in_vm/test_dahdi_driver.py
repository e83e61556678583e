"""The real DAHDI driver in the VM: two looped 'loc' spans as guest.sh configured them."""

from __future__ import annotations

import os


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


def test_device_nodes_exist():
    for node in ("ctl", "channel", "timer", "pseudo"):
        assert os.path.exists(f"/dev/dahdi/{node}")


def test_two_dynamic_loc_spans_with_31_channels_each():
    for span, first in ((1, 1), (2, 32)):
        text = read(f"/proc/dahdi/{span}")
        assert "DYN/loc" in text
        chans = [line.split()[0] for line in text.splitlines()
                 if line.strip() and line.split()[0].isdigit()]
        assert [int(c) for c in chans] == list(range(first, first + 31))
