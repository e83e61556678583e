"""pytest-benchmark: ISUP call setup + clearing through MTP2 + MTP3 + ISUP (both ends in one
process), and the codecs on their own; the libss7 pair is compared in ``cti bench``
(ss7/capacity_ss7.py)."""

from __future__ import annotations

from core.clock import VirtualClock
from ss7 import isup_codec as C
from ss7.capacity_ss7 import _our_us_per_call, isup_call
from ss7.mtp2 import decode_su, encode_su
from ss7.mtp3_codec import SI_ISUP
from ss7.stack import MemoryWire, Ss7Node, connect

IAM = C.encode("IAM", 1, {
    "nature_of_connection": C.nature_of_connection(), "forward_call": C.forward_call(),
    "calling_category": 10, "transmission_medium_requirement": 0,
    "called": C.called_party("1234567F"), "calling": C.calling_party("7654321")})


def test_bench_isup_calls(benchmark):
    benchmark.pedantic(_our_us_per_call, args=(300,), rounds=3, iterations=1)


def test_bench_mtp_msu_burst(benchmark):
    """30 MSUs one way through MTP3 + MTP2 + the in-memory link and back up to a user."""
    clock = VirtualClock()
    a, b = Ss7Node(clock, 1), Ss7Node(clock, 2)
    connect(a, b, 0, MemoryWire(clock))
    a.start()
    b.start()
    clock.advance(2)
    b.isup.mtp_transfer = lambda opc, dpc, sls, data: None
    anm = C.encode("ANM", 1, {})

    def burst() -> None:
        for sls in range(30):
            a.mtp3.transfer(SI_ISUP, 2, sls & 0x0F, anm)
        clock.advance(0.01)
    benchmark(burst)


def test_bench_isup_iam_encode(benchmark):
    params = C.decode(IAM)["params"]
    benchmark(C.encode, "IAM", 1, params)


def test_bench_isup_iam_decode(benchmark):
    benchmark(C.decode, IAM)


def test_bench_mtp2_su_round_trip(benchmark):
    benchmark(lambda: decode_su(encode_su(1, 1, 2, 1, b"\x85" + IAM)))


def test_bench_against_libss7(benchmark):
    """The ``cti bench`` entry (ours and the libss7 pair in the same run), once."""
    r = benchmark.pedantic(isup_call, args=(True,), rounds=1, iterations=1)
    assert r.unit == "us_per_call" and r.value > 0
    benchmark.extra_info.update(r.as_dict())
