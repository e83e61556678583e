"""Shared fixtures: the virtual clock and a check for optional peer libraries."""

from __future__ import annotations

import ctypes.util
import shutil

import pytest
from hypothesis import HealthCheck, settings

from core.clock import VirtualClock

settings.register_profile(
    "ci", deadline=None, max_examples=200, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile("ci")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def need_library(name: str) -> str:
    """Path of a shared library, or skip the test (make test installs all peers)."""
    path = ctypes.util.find_library(name)
    if path is None:
        pytest.skip(f"lib{name} not installed (make test installs it)")
    return path


def need_spandsp():
    """(ffi, lib) of libspandsp through cffi (timeslot.spandsp_abi), or skip the test."""
    from timeslot.spandsp_abi import spandsp
    need_library("spandsp")
    peer = spandsp()
    if peer is None:
        pytest.skip("cffi not installed")
    return peer


def need_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not installed (make test installs it)")
    return path
