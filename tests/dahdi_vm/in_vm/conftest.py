"""Tests in this folder run inside the DAHDI VM (`make test-dahdi`); elsewhere they skip."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.path.exists("/dev/dahdi/ctl"):
        return
    skip = pytest.mark.skip(reason="needs the real DAHDI driver: run `make test-dahdi`")
    for item in items:
        if "/in_vm/" in str(item.fspath):
            item.add_marker(skip)
