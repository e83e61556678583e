"""Interop: our MTP2/MTP3/ISUP against libss7 2.0 (ITU) over hdlc-sockets, both directions.

libss7 runs in real time, so each wait is bounded and ends as soon as the expected event shows.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from ss7.mtp3_codec import SI_SNM, VARIANTS, decode_msu, decode_snm
from tests.conftest import need_library, need_program
from tests.ss7_peer.ss7_harness import Libss7Pair

pytestmark = pytest.mark.interop
PEER = 2


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path_factory.mktemp("libss7"))
    # alignment (libss7 proves in emergency), SLTM/SLTA both ways, TRA, GRS on restart
    assert p.run(15, lambda: PEER in p.node.mtp3.accessible and p.saw("UP"))
    yield p
    p.close()


def _ev(p, *ev):
    return lambda: ev in p.rec.events


def test_alignment_slt_and_restart(pair):
    link = pair.node.mtp3.linksets[PEER].links[0]
    assert link.mtp2.state == "IN_SERVICE" and link.state == "AVAILABLE"
    assert link.mtp2.iac.emergency  # libss7 aligns with SIE: emergency proving
    assert pair.saw("GRS 1 30")      # our circuit group reset on MTP-RESUME reached libss7
    assert pair.run(5, lambda: not pair.node.isup._grs_pending)  # and its GRA came back


def test_outgoing_call_with_caller_id_and_causes(pair):
    call = pair.node.isup.setup(PEER, "1234567", "7654321", cic=1, presentation=1)
    assert pair.run(5, lambda: pair.saw("IAM 1 "))
    iam = next(x for x in pair.lines if x.startswith("IAM 1 ")).split()
    assert iam[2].rstrip("#") == "1234567" and iam[3] == "7654321" and iam[4] == "1"
    pair.cmd("acm 1")
    assert pair.run(5, _ev(pair, "alerting", 1))
    pair.cmd("anm 1")
    assert pair.run(5, _ev(pair, "answer", 1))
    call.release(31)
    assert pair.run(5, lambda: pair.saw("REL 1 31"))
    pair.cmd("rlc 1")
    assert pair.run(5, lambda: call.state == "IDLE")


def test_incoming_call_answer_and_remote_release(pair):
    pair.cmd("call 3 5551234 4441111 1")
    assert pair.run(5, lambda: any(e[0] == "setup" and e[1] == 3 for e in pair.rec.events))
    ev = next(e for e in pair.rec.events if e[0] == "setup" and e[1] == 3)
    assert ev[2] == "5551234" and ev[3] == "4441111" and ev[4] == 1
    call = pair.node.isup.circuit(PEER, 3)
    call.accept()
    assert pair.run(5, lambda: pair.saw("ACM 3"))
    call.answer()
    assert pair.run(5, lambda: pair.saw("ANM 3"))
    pair.cmd("rel 3 17")
    assert pair.run(5, _ev(pair, "release", 3, 17))
    assert pair.run(5, lambda: pair.saw("RLC 3"))
    assert call.state == "IDLE"


def test_call_rejected_before_answer(pair):
    pair.cmd("call 5 999 - 0")
    assert pair.run(5, lambda: pair.node.isup.circuit(PEER, 5).state == "IN_WAIT_ACM")
    pair.node.isup.circuit(PEER, 5).release(21)
    assert pair.run(5, lambda: pair.saw("REL 5 21"))
    pair.cmd("rlc 5")
    assert pair.run(5, lambda: pair.node.isup.circuit(PEER, 5).state == "IDLE")


def test_circuit_reset_both_ways(pair):
    pair.node.isup.circuit(PEER, 7).reset()
    assert pair.run(5, lambda: pair.saw("RSC 7"))
    assert pair.run(5, lambda: pair.node.isup.circuit(PEER, 7).state == "IDLE")
    pair.cmd("rsc 8")
    assert pair.run(5, _ev(pair, "reset", (8,)))


def test_group_reset_from_libss7(pair):
    pair.cmd("grs 11 20")
    assert pair.run(5, _ev(pair, "reset", tuple(range(11, 21))))
    assert pair.run(5, lambda: pair.saw("GRA 11 20"))


def test_blocking_unblocking_and_group_blocking(pair):
    pair.node.isup.block(9)
    assert pair.run(5, lambda: pair.saw("BLO 9"))
    assert pair.run(5, _ev(pair, "blocking", 9, True, False))
    pair.node.isup.unblock(9)
    assert pair.run(5, _ev(pair, "blocking", 9, False, False))
    pair.cmd("blo 10")
    assert pair.run(5, _ev(pair, "blocking", 10, False, True))
    assert pair.run(5, lambda: pair.saw("BLA 10"))
    pair.cmd("cgb 21 24")
    assert pair.run(5, lambda: pair.saw("CGBA 21 24"))
    assert all(pair.node.isup.circuit(PEER, n).remote_blocked for n in range(21, 25))
    pair.cmd("cgu 21 24")
    assert pair.run(5, lambda: pair.saw("CGUA 21 24"))
    assert not any(pair.node.isup.circuit(PEER, n).remote_blocked for n in range(21, 25))
    pair.cmd("ubl 10")
    assert pair.run(5, _ev(pair, "blocking", 10, False, False))


def test_dual_seizure_non_controlling_side_backs_off(pair):
    # we are PC 1 < 2: libss7 controls the even CICs; both seize CIC 12 at once
    ours = pair.node.isup.setup(PEER, "111", "222", cic=12)
    pair.cmd("call 12 333 444 0")
    assert pair.run(5, _ev(pair, "glare", 12))
    assert pair.run(5, lambda: any(e[:3] == ("setup", 12, "333") for e in pair.rec.events))
    assert ours.state == "IN_WAIT_ACM"  # the CIC now carries libss7's call
    # our call is reattempted automatically on another circuit
    def reattempt() -> list[int]:
        return [int(x.split()[1]) for x in pair.lines
                if x.startswith("IAM ") and x.split()[2].rstrip("#") == "111"
                and x.split()[1] != "12"]
    assert pair.run(5, lambda: reattempt())
    other = reattempt()[0]
    pair.node.isup.circuit(PEER, other).release(16)
    assert pair.run(5, lambda: pair.saw(f"REL {other} 16"))
    pair.cmd(f"rlc {other}")
    ours.reset()  # clear CIC 12 at both ends
    assert pair.run(5, lambda: pair.node.isup.circuit(PEER, other).state == "IDLE"
                    and ours.state == "IDLE")


def test_thirty_circuits_busy_at_once(pair):
    pair.cmd("auto on")
    pair.run(0.2)
    for n in range(1, 31):
        c = pair.node.isup.circuit(PEER, n)
        if c.state != "IDLE":
            c.reset()
    assert pair.run(10, lambda: all(pair.node.isup.circuit(PEER, n).state == "IDLE"
                                    for n in range(1, 31)))
    for n in range(1, 31):
        c = pair.node.isup.circuit(PEER, n)
        c.local_blocked = c.remote_blocked = False
        pair.node.isup.setup(PEER, f"800{n:04d}", "5550000", cic=n)
    assert pair.run(15, lambda: all(pair.node.isup.circuit(PEER, n).state == "ANSWERED"
                                    for n in range(1, 31)))
    for n in range(1, 31):
        pair.node.isup.circuit(PEER, n).release(16)
    assert pair.run(15, lambda: all(pair.node.isup.circuit(PEER, n).state == "IDLE"
                                    for n in range(1, 31)))
    pair.cmd("auto off")


def test_tshark_decodes_every_signal_unit(pair):
    tshark = need_program("tshark")
    pair.cmd("auto off")
    call = pair.node.isup.setup(PEER, "2223334", "5556667", cic=29)
    assert pair.run(5, lambda: pair.saw("IAM 29 "))
    pair.cmd("acm 29")
    pair.cmd("anm 29")
    assert pair.run(5, lambda: call.state == "ANSWERED")
    call.release(31)
    assert pair.run(5, lambda: pair.saw("REL 29 31"))
    pair.cmd("rlc 29")
    assert pair.run(5, lambda: call.state == "IDLE")
    pair.tracer.writer.flush()
    out = subprocess.run([tshark, "-r", str(pair.pcap), "-o", "mtp3.standard:ITU", "-T", "ek"],
                         capture_output=True, text=True, check=True).stdout
    pkts = [json.loads(x) for x in out.splitlines() if x.startswith('{"timestamp"')]
    assert pkts
    text = out.lower()
    assert "malformed" not in text and "_ws_malformed" not in text
    isup = [p["layers"] for p in pkts if "isup" in p["layers"]]
    assert isup
    iam = [x for x in isup if str(x["isup"].get("isup_isup_message_type")) == "1"]
    ours = [x for x in iam if str(x["isup"].get("isup_isup_cic")) == "29"
            and "2223334" in json.dumps(x["isup"])]
    assert ours and "5556667" in json.dumps(ours[0]["isup"])
    assert str(ours[0]["mtp3"]["mtp3_mtp3_opc"]) == "1" and \
        str(ours[0]["mtp3"]["mtp3_mtp3_dpc"]) == "2"
    rel = [x for x in isup if str(x["isup"].get("isup_isup_message_type")) == "12"
           and str(x["isup"].get("isup_isup_cic")) == "29"]
    assert any('"31"' in json.dumps(x) for x in rel)  # the cause of our REL on CIC 29
    m3 = [x["mtp3"] for x in isup]
    assert {str(m.get("mtp3_mtp3_opc")) for m in m3} == {"1", "2"}


@pytest.fixture
def pair2(tmp_path):
    need_library("ss7")
    need_program("gcc")
    p = Libss7Pair(tmp_path, nlinks=2)
    assert p.run(20, lambda: PEER in p.node.mtp3.accessible and p.saw("UP") and all(
        lk.state == "AVAILABLE" for lk in p.node.mtp3.linksets[PEER].links))
    yield p
    p.close()


def test_link_failure_changeover_keeps_calls(pair2):
    p = pair2
    p.cmd("auto on")
    calls = [p.node.isup.setup(PEER, "4000", "5000", cic=n) for n in range(1, 9)]
    assert p.run(10, lambda: all(c.state == "ANSWERED" for c in calls))
    links = p.node.mtp3.linksets[PEER].links
    links[0].mtp2.stop()  # link 0 fails: SIOS; traffic changes over to link 1
    assert p.run(10, lambda: links[0].state in ("FAILED", "CHANGEBACK", "AVAILABLE")
                 and links[1].state == "AVAILABLE")
    assert all(c.state == "ANSWERED" for c in calls)  # established calls are kept
    for c in calls:
        c.release(16)
    assert p.run(10, lambda: all(c.state == "IDLE" for c in calls))
    # the failed link realigns (T17, emergency proving), passes SLT and traffic changes back
    assert p.run(10, lambda: links[0].state == "AVAILABLE")
    again = [p.node.isup.setup(PEER, "4001", "5001", cic=n) for n in (1, 2)]
    assert p.run(5, lambda: all(c.state == "ANSWERED" for c in again))
    for c in again:
        c.release(16)
    assert p.run(5, lambda: all(c.state == "IDLE" for c in again))


def test_changeback_against_libss7(pair2):
    """Q.704 6.2-6.5: our CBD for the recovered link 0 goes on the alternative link 1 with link
    0's SLC in the label.  libss7 2.0 takes a management message only when its SLS equals the
    SLC of the link carrying it (mtp3_receive: "Received message for slc ... Dropping"), so it
    drops that CBD (and its repeat after T4) and our changeback completes when T5 expires;
    libss7's own CBD comes on link 0 itself and gets our CBA there.  Calls set up while the
    traffic is held are answered: nothing is lost."""
    p = pair2
    itu = VARIANTS["itu"]
    seen: list[tuple[bool, int, str, int, int]] = []
    record = p.tracer.record

    def tap(number: int, sent: bool, su: bytes) -> None:
        if len(su) > 8 and su[2] & 0x3F >= 3 and su[3] & 0x0F == SI_SNM:
            m = decode_msu(itu, su[3:])
            s = decode_snm(itu, m["payload"])
            if s["message"] in ("CBD", "CBA"):
                seen.append((sent, number, s["message"], m["sls"], s["code"]))
        record(number, sent, su)

    p.tracer.record = tap
    links = p.node.mtp3.linksets[PEER].links
    links[0].mtp2.stop()
    assert p.run(10, lambda: links[0].state == "CHANGEBACK")
    p.cmd("auto on")
    calls = [p.node.isup.setup(PEER, "4100", "5100", cic=n) for n in range(1, 9)]
    assert p.run(10, lambda: links[0].state == "AVAILABLE" and
                 all(c.state == "ANSWERED" for c in calls))
    ours = [x for x in seen if x[0] and x[2] == "CBD"]
    assert [(n, sls) for _, n, _, sls, _ in ours] == [(1, 0), (1, 0)]  # first and T4 repeat
    assert not [x for x in seen if not x[0] and x[2] == "CBA" and x[4] == ours[0][4]]
    theirs = [x for x in seen if not x[0] and x[2] == "CBD"]
    assert theirs and all(n == 0 and sls == 0 for _, n, _, sls, _ in theirs)
    assert (True, 0, "CBA", 0, theirs[-1][4]) in seen
    assert "Received message for slc 0x0, but we are 0x1" in (p.pcap.parent /
                                                             "libss7.log").read_text()
    for c in calls:
        c.release(16)
    assert p.run(5, lambda: all(c.state == "IDLE" for c in calls))
