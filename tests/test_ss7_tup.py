"""China TUP: byte vectors derived by hand from Q.723 / GF 001-9001, codec properties, and two
TUP exchanges back to back (no open peer exists)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ss7 import tup_codec as T
from ss7.stack import MemoryWire, Ss7Node, connect
from ss7.tup import TupListener

CN, ITU = T.VARIANTS["china"], T.VARIANTS["itu"]


def test_iam_itu_label_and_fields_q723():
    # Q.723 2.2: DPC 2 | OPC 1 << 14 | CIC 1 << 28 over 40 bits, LSB first -> 02 40 00 10 00
    # heading H0=1 (FAM) bits 1-4, H1=1 (IAM) bits 5-8 -> 0x11; category 10 -> 0x0a;
    # message indicators (3.3): NOA 2 (national), signalling path bit K = 1, NAS 5 -> 0x5402;
    # address signals 1 2 3 4 5, first in bits 1-4, filler 0 -> 21 43 05
    name, f = T.iam_fields("12345")
    assert T.encode(ITU, name, 2, 1, 1, f).hex() == "0240001000" "11" "0a" "0254" "214305"


def test_china_label_24_bit_and_clf():
    # GF 001-9001: DPC 24, OPC 24, CIC 12 + 4 spare; CLF is H0=6, H1=4 -> 0x46
    sif = T.encode(CN, "CLF", 0x010203, 0x040506, 0x123)
    assert sif.hex() == "030201" "060504" "2301" "46"
    assert T.decode(CN, sif)["cic"] == 0x123


def test_iai_with_restricted_calling_line_identity():
    name, f = T.iam_fields("1234567", cli="7654321", restricted=True)
    assert name == "IAI"
    sif = T.encode(CN, name, 1, 2, 3, f)
    # after IAM part: first indicator octet, bit E (CLI included) = 0x10; CLI head: NOA 2,
    # presentation restricted bit C = 1 -> 0x06, NAS 7 in bits 5-8 -> 0x76; digits 67 45 23 01
    assert sif.hex().endswith("10" "76" "67452301")
    d = T.decode(CN, sif)
    assert d["fields"]["cli"] == "7654321" and d["fields"]["cli_head"]["restricted"] == 1


def test_group_messages_range_and_status():
    sif = T.encode(CN, "MGB", 1, 2, 1, {"range": 9, "status": [1] + [0] * 8 + [1]})
    # heading: H0=8 (GRM) in bits 1-4, H1=1 (MGB) in bits 5-8 -> 0x18; range 9; 10 status
    # bits, the first for the CIC of the label -> 01 02
    assert sif.hex().endswith("18" "09" "0102")
    # GRS (H1=9) carries the range only (Q.723 3.15)
    assert T.encode(CN, "GRS", 1, 2, 1, {"range": 29}).hex().endswith("98" "1d")


_bodies = {
    "IAM": st.builds(lambda d: T.iam_fields(d)[1], st.text("0123456789", min_size=1, max_size=15)),
    "IAI": st.builds(lambda d, c, r: T.iam_fields(d, cli=c, restricted=r)[1],
                     st.text("0123456789", min_size=1, max_size=15),
                     st.text("0123456789", min_size=1, max_size=15), st.booleans()),
    "SAM": st.builds(lambda d: {"head": {"spare": 0, "nas": len(d)}, "digits": d},
                     st.text("0123456789", min_size=1, max_size=15)),
    "SAO": st.builds(lambda d: {"sao": {"digit": d, "filler": 0}}, st.integers(0, 15)),
    "ACM": st.builds(lambda t: {"ind": {"type": t, "free": 1, "echo": 0, "forwarded": 0,
                                        "path": 1, "spare": 0}}, st.integers(0, 3)),
    "GRS": st.builds(lambda r: {"range": r}, st.integers(0, 31)),
    "MPM": st.builds(lambda p: {"pulses": p}, st.integers(0, 0xFFFF)),
    "ACC": st.builds(lambda lv: {"acc": {"level": lv, "spare": 0}}, st.integers(0, 3)),
}
_group = st.builds(lambda b: {"range": len(b) - 1, "status": b},
                   st.lists(st.integers(0, 1), min_size=2, max_size=32))


@settings(max_examples=60)
@given(st.sampled_from(sorted(T.MESSAGES)), st.sampled_from(["itu", "china"]),
       st.integers(0, 4095), st.data())
def test_tup_round_trip_every_message(name, variant, cic, data):
    v = T.VARIANTS[variant]
    body = T.MESSAGES[name][2]
    if name in _bodies:
        fields = data.draw(_bodies[name])
    elif isinstance(body, T.RangeStatus):
        fields = data.draw(_group)
    elif name == "GRQ":
        fields = {"ind": {"category": 1, "cli": 1, "oca": 0, "malicious": 0, "hold": 0,
                          "echo": 0, "spare": 0}}
    elif name == "GSM":
        fields = {"ind": {"category": 1, "cli": 0, "transit_id": 0, "oca": 0, "echo": 0,
                          "malicious": 0, "hold": 0, "spare": 0},
                  "category": {"category": 10, "spare": 0}}
    else:
        fields = {}
    sif = T.encode(v, name, 3, 4, cic, fields)
    d = T.decode(v, sif)
    assert (d["message"], d["cic"], d["dpc"], d["opc"]) == (name, cic, 3, 4)
    assert T.encode(v, name, 3, 4, cic, d["fields"]) == sif


@settings(max_examples=300)
@given(st.binary(max_size=40), st.sampled_from(["itu", "china"]))
def test_tup_arbitrary_bytes_give_typed_errors(data, variant):
    try:
        T.decode(T.VARIANTS[variant], data)
    except T.TupDecodeError as e:
        assert e.field and e.offset is not None


class Rec(TupListener):
    def __init__(self):
        self.events = []
        self.mode = "answer"

    def on_setup(self, call):
        self.events.append(("setup", call.cic, call.called, call.calling, call.restricted))
        if self.mode == "answer":
            call.accept()
            call.answer()
        elif self.mode == "busy":
            call.reject("SSB")

    def on_answer(self, call):
        self.events.append(("answer", call.cic))

    def on_rejected(self, call, signal):
        self.events.append(("rejected", call.cic, signal))

    def on_clear_back(self, call):
        self.events.append(("cbk", call.cic))

    def on_release(self, call):
        self.events.append(("release", call.cic))

    def on_glare(self, call):
        self.events.append(("glare", call.cic))

    def on_blocking(self, cic, local, remote):
        self.events.append(("blocking", cic, local, remote))


def china_pair(clock):
    ra, rb = Rec(), Rec()
    a = Ss7Node(clock, 0x0A0001, variant="china", tup_listener=ra)
    b = Ss7Node(clock, 0x0A0002, variant="china", tup_listener=rb)
    a.tup.add_circuits(0x0A0002, range(1, 31))
    b.tup.add_circuits(0x0A0001, range(1, 31))
    connect(a, b, 0, MemoryWire(clock, 0.001))
    a.start()
    b.start()
    clock.advance(1)
    return a, b, ra, rb


def test_tup_call_answer_clear_back_reanswer_release(clock):
    a, b, ra, rb = china_pair(clock)
    call = a.tup.setup(0x0A0002, "01012345678", "13900001111", restricted=True)
    clock.advance(0.1)
    assert rb.events[0] == ("setup", call.cic, "01012345678", "13900001111", True)
    assert call.state == "ANSWERED"
    far = b.tup.circuit(0x0A0001, call.cic)
    far.clear_back()
    clock.advance(0.1)
    assert call.state == "CLEARED_BACK" and ("cbk", call.cic) in ra.events
    far.answer()  # re-answer (RAN)
    clock.advance(0.1)
    assert call.state == "ANSWERED"
    call.release()  # calling party control: CLF -> RLG
    clock.advance(0.1)
    assert call.state == "IDLE" and far.state == "IDLE" and ("release", call.cic) in rb.events


def test_tup_overlap_digits_beyond_fifteen_use_sam(clock):
    a, b, ra, rb = china_pair(clock)
    rb.mode = "wait"
    call = a.tup.setup(0x0A0002, "0086101234567890123")
    clock.advance(0.1)
    assert b.tup.circuit(0x0A0001, call.cic).called == "0086101234567890123"


def test_tup_subscriber_busy_is_cleared_forward(clock):
    a, b, ra, rb = china_pair(clock)
    rb.mode = "busy"
    call = a.tup.setup(0x0A0002, "123")
    clock.advance(0.1)
    assert ("rejected", call.cic, "SSB") in ra.events
    assert call.state == "IDLE" and b.tup.circuit(0x0A0001, call.cic).state == "IDLE"


def test_tup_no_answer_timer_clears(clock):
    a, b, ra, rb = china_pair(clock)
    rb.mode = "wait"
    call = a.tup.setup(0x0A0002, "123")
    clock.advance(25.5)  # T_ACM: no ACM in 20-30 s -> CLF
    assert call.state == "IDLE"


def test_tup_reset_blocking_group_reset_and_dual_seizure(clock):
    a, b, ra, rb = china_pair(clock)
    a.tup.block(0x0A0002, 5)
    clock.advance(0.1)
    assert a.tup.circuit(0x0A0002, 5).local_blocked
    assert ("blocking", 5, False, True) in rb.events
    a.tup.group_block(0x0A0002, 10, [1, 1, 0, 1], "HGB")
    clock.advance(0.1)
    assert a.tup.circuit(0x0A0002, 13).local_blocked
    assert b.tup.circuit(0x0A0001, 11).remote_blocked
    a.tup.group_reset(0x0A0002, 1, 30)
    clock.advance(0.1)
    assert not a.tup._grs and not b.tup.circuit(0x0A0001, 11).remote_blocked
    assert a.tup.circuit(0x0A0002, 5).remote_blocked is False
    rb.mode = ra.mode = "wait"
    # CIC 2 is even and B has the higher point code: B controls it, A backs off
    ca = a.tup.setup(0x0A0002, "111", cic=2)
    cb = b.tup.setup(0x0A0001, "222", cic=2)
    clock.advance(0.1)
    assert ("glare", 2) in ra.events and cb.state == "OUT_WAIT_ACM" and ca.state == "IN_SETUP"
    assert any(e[0] == "setup" and e[2] == "111" and e[1] != 2 for e in rb.events)
    ca.reset()
    clock.advance(0.1)
    assert ca.state == "IDLE" and b.tup.circuit(0x0A0001, 2).state == "IDLE"


def test_tup_group_blocking_repeated_until_acknowledged(clock):
    a, b, ra, rb = china_pair(clock)
    sent = []
    send = a.tup.send
    a.tup.send = lambda dpc, cic, name, fields=None: (sent.append(name),
                                                      send(dpc, cic, name, fields))
    real = b.tup.mtp_transfer
    b.tup.mtp_transfer = lambda *args: None  # B's TUP does not hear the first ones
    a.tup.group_block(0x0A0002, 1, [1, 0, 1], "MGB")
    clock.advance(25.0)  # T_BLA 12 s: two repetitions
    assert sent == ["MGB", "MGB", "MGB"] and not a.tup.circuit(0x0A0002, 1).local_blocked
    b.tup.mtp_transfer = real
    clock.advance(12.0)
    assert sent == ["MGB"] * 4 and a.tup.circuit(0x0A0002, 3).local_blocked
    assert not a.tup.circuit(0x0A0002, 2).local_blocked
    clock.advance(30.0)
    assert sent == ["MGB"] * 4  # acknowledged: no more repetitions
    with pytest.raises(ValueError):
        a.tup.group_block(0x0A0002, 1, [1], "MGB")
    with pytest.raises(ValueError):
        a.tup.group_block(0x0A0002, 1, [1, 1], "MBA")
