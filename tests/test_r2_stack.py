"""R2 stack on its own: variant tables, line FSM, compelled cycle, outcomes, timers, trace."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from r2_loop import pair

from core.clock import VirtualClock
from core.errors import ConfigError, DecodeError
from core.timers import Timers
from r2 import timers as r2timers
from r2.call import CircuitBusy, R2StateError
from r2.decode import decode_cas, parse_lines
from r2.register import BackwardRegister, ForwardRegister
from r2.variants import VARIANTS, get

ALL = sorted(VARIANTS)


# ---- tables --------------------------------------------------------------------------------
def test_q850_causes_exist():
    from core.q850 import CAUSES
    from r2.variants import Q850
    assert all(c in CAUSES for c in Q850.values())


def test_q421_line_codes_and_cd_bits():
    itu, cn = get("itu"), get("cn")
    assert itu.abcd(itu.forward_codes["idle"]) == 0b1001       # Q.421: idle 10, c=0 d=1
    assert itu.abcd(itu.forward_codes["seize"]) == 0b0001
    assert itu.abcd(itu.backward_codes["seize_ack"]) == 0b1101
    assert itu.abcd(itu.backward_codes["answer"]) == 0b0101
    assert cn.abcd(cn.forward_codes["idle"]) == 0b1011          # China No.1: c=d=1
    assert cn.abcd(cn.backward_codes["clear_back"]) == 0b1111


def test_variant_rows():
    assert get("itu").send_b["accept_charge"] == 6 and get("itu").send_b["busy"] == 3
    assert get("cn").send_a["category"] == 6 and get("cn").send_a["next_ani"] == 1
    assert get("cn").send_b["accept_charge"] == 1 and get("cn").group_b[3] == "busy"
    assert get("br").group_ii[8] == "collect_call"
    assert get("mx").send_c["next_ani"] == 1 and get("mx").params["ani_order"] == "after_dnis"
    assert get("ar").group_i[12] == "end" and get("ar").group_i[15] == "ani_restricted"
    assert get("ve").send_a["next_ani"] == 9
    assert get("mx").timers == {"fwd_step": 30.0} and get("itu").timers == {}
    assert get("co").send_b["unallocated"] == 6
    with pytest.raises(ConfigError):
        get("xx")
    with pytest.raises(ConfigError):
        get("itu").category_signal("martian")


# ---- complete calls back to back -----------------------------------------------------------
@pytest.mark.parametrize("variant", ALL)
@pytest.mark.parametrize("ani", ["5678", None, ""])
def test_call_in_every_variant(variant, ani):
    clock, a, b = pair(variant, b_opts={"max_dnis": 4, "max_ani": 8})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    clock.advance(0.1)
    assert a.chan.make_call("1234", ani, "national_priority") == "seized"
    clock.advance(20)
    offered = b.last("offered")
    assert offered["dnis"] == "1234"
    assert offered["ani"] == (None if ani is None else ani)
    assert offered["category"] == "national_priority"
    assert a.names() == ["alerting", "answered"]
    assert a.chan.state == "out_answered" and b.chan.state == "in_answered"
    a.chan.hangup()
    clock.advance(3)
    assert a.last("released")["cause"] == 16 and b.last("released")["cause"] == 16
    assert a.chan.state == b.chan.state == "idle"


@pytest.mark.parametrize("reason,cause", [("busy", 17), ("unallocated", 1), ("congestion", 34),
                                          ("out_of_order", 27)])
@pytest.mark.parametrize("variant", ["itu", "cn", "br", "co"])
def test_rejections_map_to_q850(variant, reason, cause):
    if reason not in get(variant).send_b:
        pytest.skip(f"{variant} has no group B signal for {reason}")
    clock, a, b = pair(variant, b_opts={"max_dnis": 3})
    b.on_offered = lambda ch, f: ch.reject(reason)
    a.chan.make_call("123", "99")
    clock.advance(20)
    assert a.last("call_failed")["reason"] == reason
    assert a.last("released")["cause"] == cause
    assert b.last("released")["cause"] == cause
    sig = f"B-{get(variant).send_b[reason]}"
    assert a.last("released")["r2"] == sig == b.last("released")["r2"]
    assert a.chan.state == b.chan.state == "idle"


def test_backward_clear_back_then_clear_forward():
    clock, a, b = pair("itu", b_opts={"max_dnis": 2, "max_ani": 0})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    a.chan.make_call("12", "3")
    clock.advance(5)
    b.chan.hangup()                        # clear-back 11
    clock.advance(3)
    assert "clear_back" in a.names()
    assert a.last("released")["cause"] == 16 and b.last("released")["cause"] == 16
    assert [t[2] for t in b.chan.line.transitions][-2:] == ["in_clear_back", "idle"]


def test_metering_pulse_in_argentina():
    clock, a, b = pair("ar", b_opts={"max_dnis": 2, "max_ani": 0})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    a.chan.make_call("12", "3")
    clock.advance(5)
    b.chan.line._back("clear_back")        # a 150 ms pulse of clear-back = one metering pulse
    clock.advance(0.15)
    b.chan.line._back("answer")
    clock.advance(1)
    assert "meter" in a.names() and a.chan.state == "out_answered"


def test_dnis_end_by_timeout_and_pulsed_signal():
    """China sends no end-of-DNIS: the incoming register times out and pulses A-6/A-3."""
    clock, a, b = pair("cn", b_opts={"max_dnis": 20, "max_ani": 4, "ani_order": "after_dnis"})
    b.on_offered = lambda ch, f: ch.accept()
    a.chan.make_call("8765", "1234")
    clock.advance(30)
    offered = b.last("offered")
    assert offered["dnis"] == "8765" and offered["ani"] == "1234"
    assert "alerting" in a.names()
    lines = [ln.split(" ", 1)[1] for ln in b.chan.trace.lines[1:]]
    i = lines.index("TX MF bwd 6 A category")
    assert lines[i + 1] == "TX MF bwd off"    # pulsed: removed on its own, not compelled


def test_seize_ack_timeout(clock):
    sent = []
    from r2.call import R2Channel
    ch = R2Channel(clock, "itu", cas_tx=sent.append, mf_tx=lambda s, d: None,
                   on_event=lambda n, f: sent.append((n, f)))
    ch.make_call("1")
    clock.advance(7.9)
    assert ch.state == "out_seized"
    clock.advance(0.2)
    assert ("released", {"cause": 102, "r2": None}) in sent and ch.state == "idle"
    assert sent[-2] == 0b1001               # clear-forward


def test_compelled_step_timeout_releases(clock):
    clock, a, b = pair("itu", clock=clock, b_opts={"max_dnis": 4})
    a.chan.make_call("1234")
    clock.advance(0.12)
    b.chan.on_mf = lambda sig: None        # incoming register goes deaf
    clock.advance(4.9)
    assert "call_failed" not in b.names()
    clock.advance(5)
    assert b.last("call_failed")["reason"] == "timeout"
    assert b.last("released")["cause"] == 102
    assert "released" in a.names() and a.chan.state == b.chan.state == "idle"


def test_forward_step_timeout():
    reg, sent, ev = _fwd()
    reg.dispatch("start")
    reg.timers.scheduler.advance(14.9)
    assert ev == []
    reg.timers.scheduler.advance(0.2)
    assert ev == [("failed", {"reason": "timeout"})] and sent[-1] == 0


@pytest.mark.parametrize("circuit", [2, 1])
def test_glare_resolved_by_circuit_control(circuit):
    """The master end (a) controls even circuits, the other end odd ones (Q.421 both-way)."""
    opts = {"max_dnis": 2, "max_ani": 0}
    clock, a, b = pair("itu", circuit=circuit, a_opts=opts, b_opts=opts)
    a.on_offered = b.on_offered = lambda ch, f: ch.accept()
    a.chan.make_call("12", "7")
    b.chan.make_call("99", "8")            # both seize before either sees the other
    clock.advance(10)
    winner, loser = (a, b) if circuit % 2 == 0 else (b, a)
    assert "glare" in loser.names() and "glare" not in winner.names()
    assert loser.last("offered")["dnis"] == ("12" if winner is a else "99")
    assert "alerting" in winner.names()


def test_blocking(clock):
    clock, a, b = pair("itu", clock=clock)
    b.chan.block()
    clock.advance(0.1)
    assert "blocked" in a.names()
    with pytest.raises(CircuitBusy):
        a.chan.make_call("1")
    b.chan.unblock()
    clock.advance(0.1)
    assert "unblocked" in a.names() and a.chan.state == "idle"


def test_debounce_ignores_short_glitch():
    clock, a, b = pair("itu")
    clock.advance(0.1)
    a.chan.on_cas(0b0001)                  # 10 ms of "seize" then idle again
    clock.advance(0.010)
    a.chan.on_cas(0b1001)
    clock.advance(1)
    assert a.chan.state == "idle" and a.names() == []


# ---- register FSMs driven by tone events ---------------------------------------------------
def _fwd(variant="itu", dnis="12", ani="3"):
    clock = VirtualClock()
    sent, ev = [], []
    reg = ForwardRegister(get(variant), Timers(r2timers.table(), clock), sent.append,
                          lambda n, **f: ev.append((n, f)), dnis, ani, "national_subscriber")
    return reg, sent, ev


def test_forward_register_repeat_requests():
    reg, sent, ev = _fwd(dnis="4567")
    reg.dispatch("start")
    for back in (1, 1, 2):                 # next, next, last-but-one
        reg.on(back)
        reg.on(0)
    assert [s for s in sent if s] == [4, 5, 6, 5]
    reg.on(7)                              # last but two
    reg.on(0)
    assert [s for s in sent if s][-1] == 4


def test_forward_register_rejects_unknown_backward_signal():
    reg, sent, ev = _fwd()
    reg.dispatch("start")
    reg.on(13)
    reg.on(0)
    assert ev[-1][0] == "failed" and ev[-1][1]["reason"] == "protocol_error"


def test_backward_register_protocol_error_on_group_ii_garbage():
    clock = VirtualClock()
    sent, ev = [], []
    reg = BackwardRegister(get("itu"), Timers(r2timers.table(), clock), sent.append,
                           lambda n, **f: ev.append((n, f)), max_dnis=1, ani_order="none")
    reg.dispatch("start")
    reg.on(3)
    assert sent[-1] == 3                   # A-3 change to group B after the only digit
    reg.on(0)
    reg.on(14)                             # II-14 is no category
    assert ev[-1][1]["reason"] == "protocol_error"


# ---- trace and decode ----------------------------------------------------------------------
def test_trace_round_trips_through_decoder():
    clock, a, b = pair("cn", b_opts={"max_dnis": 3, "max_ani": 2})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    a.chan.make_call("123", "45")
    clock.advance(10)
    a.chan.hangup()
    clock.advance(2)
    text = a.chan.traces[-1].text()
    recs = list(parse_lines(text.splitlines()))
    assert recs[0]["message"] == "CAS 0011" and recs[0]["signal"] == "seize"
    assert any(r.get("meaning") == "A category" for r in recs)      # China A-6
    assert recs[-1]["message"] == "released" and recs[-1]["cause"] == "16"
    assert {r["variant"] for r in recs} == {"cn"}


def test_decode_cas():
    assert decode_cas(b"\x0d")[0]["backward"] == "seize_ack/clear_back/blocked"
    with pytest.raises(DecodeError):
        decode_cas(b"\x10")


@given(st.binary(max_size=200))
@settings(max_examples=150)
def test_decoders_raise_only_typed_errors(data):
    for fn in (decode_cas, lambda d: list(parse_lines(d.decode("latin-1").splitlines()))):
        try:
            fn(data)
        except DecodeError:
            pass


@given(st.lists(st.sampled_from(["0.5 TX CAS 1001 idle", "1.0 RX MF fwd 5 I digit 5",
                                 "2 RX MF bwd off", "3.25 EV released cause=16", "x", "1 MF",
                                 "# r2 circuit 1 variant zz", "9 RX MF fwd 99"]), max_size=8))
def test_decoder_lines_fuzz(lines):
    try:
        for rec in parse_lines(lines):
            assert rec["layer"] == "r2"
    except DecodeError as e:
        assert e.offset is not None and e.field


# ---- robustness: whatever the far end sends, the channel never raises ------------------------
_far_end = st.lists(st.one_of(
    st.tuples(st.just("cas"), st.integers(0, 15)),
    st.tuples(st.just("mf"), st.integers(0, 15)),
    st.tuples(st.just("wait"), st.sampled_from([0.005, 0.03, 0.2, 6.0, 20.0])),
    st.tuples(st.just("app"), st.sampled_from(["call", "accept", "reject", "answer", "hangup",
                                               "block", "unblock"]))), max_size=60)


@given(st.sampled_from(ALL), _far_end)
@settings(max_examples=300)
def test_arbitrary_far_end_never_crashes(variant, script):
    from r2.call import R2Channel
    clock = VirtualClock()
    ch = R2Channel(clock, variant, 3, cas_tx=lambda a: None, mf_tx=lambda s, d: None,
                   max_dnis=4)
    for kind, arg in script:
        if kind == "cas":
            ch.on_cas(arg)
        elif kind == "mf":
            ch.on_mf(arg)
        elif kind == "wait":
            clock.advance(arg)
        else:
            try:
                {"call": lambda: ch.make_call("123", "4"), "accept": ch.accept,
                 "reject": lambda: ch.reject("busy"), "answer": ch.answer,
                 "hangup": ch.hangup, "block": ch.block, "unblock": ch.unblock}[arg]()
            except R2StateError:
                pass
    clock.advance(100)
    assert ch.state in ("idle", "blocked", "remote_blocked", "fault", "in_setup", "in_answered",
                        "in_clear_back", "out_seized", "out_setup", "out_answered",
                        "out_clear_back", "out_clearing")


@given(st.lists(st.one_of(
    st.tuples(st.just("cas"), st.sampled_from(["TX", "RX"]), st.integers(0, 15),
              st.sampled_from(["seize", "seize-ack", "clear-forward"])),
    st.tuples(st.just("mf"), st.sampled_from(["TX", "RX"]), st.integers(0, 15),
              st.sampled_from(["fwd", "bwd"])),
    st.tuples(st.just("ev"), st.sampled_from(["offered", "released"]), st.integers(0, 127),
              st.just(""))), max_size=20))
def test_trace_codec_round_trip(entries):
    from r2.trace import CallTrace
    clock = VirtualClock()
    tr = CallTrace(clock.time, 7, "ve")
    for i, (kind, a, n, b) in enumerate(entries):
        clock.advance(0.02 * i)
        if kind == "cas":
            tr.cas(a, n, b)
        elif kind == "mf":
            tr.mf(a, b, n, "x y")
        else:
            tr.event(a, cause=n)
    recs = list(parse_lines(tr.text().splitlines()))
    assert len(recs) == len(entries)
    for rec, (kind, a, n, b) in zip(recs, entries, strict=True):
        assert rec["circuit"] == 7 and rec["variant"] == "ve"
        if kind == "cas":
            assert (rec["direction"], rec["abcd"], rec["signal"]) == (a, n, b)
        elif kind == "mf":
            assert (rec["direction"], rec["mf"], rec["sender"]) == (a, n, b)
        else:
            assert (rec["message"], rec["cause"]) == (a, str(n))


def test_release_guard_timeout_puts_circuit_in_fault():
    clock, a, b = pair("itu", b_opts={"max_dnis": 1, "max_ani": 0})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    a.chan.make_call("5")
    clock.advance(3)
    b.chan.on_cas = lambda abcd: None      # the far end dies: no release guard will come
    a.chan.hangup()
    clock.advance(1.9)
    assert a.chan.state == "out_clearing"
    clock.advance(0.2)
    assert a.chan.state == "fault" and "fault" in a.names()
    with pytest.raises(CircuitBusy):
        a.chan.make_call("6")


def test_application_ends_dnis_early():
    clock, a, b = pair("itu", b_opts={"dnis_complete": lambda d: d.startswith("11") and
                                      len(d) == 3, "max_ani": 0})
    b.on_offered = lambda ch, f: ch.accept()
    a.chan.make_call("119", None)
    clock.advance(5)
    assert b.last("offered")["dnis"] == "119" and "alerting" in a.names()


def test_collect_call_category_in_brazil():
    """Brazil's II-8 collect call; a refusal the variant has no B signal for goes as
    congestion and both ends report the same cause."""
    clock, a, b = pair("br", b_opts={"max_dnis": 2, "max_ani": 0})
    b.on_offered = lambda ch, f: ch.reject("collect_rejected")
    a.chan.make_call("12", "3", "collect_call")
    clock.advance(10)
    assert b.last("offered")["category"] == "collect_call"
    assert a.last("released")["cause"] == b.last("released")["cause"] == 34


def test_hangup_during_accept_delay_does_not_answer():
    clock, a, b = pair("itu", b_opts={"max_dnis": 1, "max_ani": 0})
    b.on_offered = lambda ch, f: (ch.accept(), ch.answer())
    a.chan.make_call("5")
    clock.advance(0.5)        # group B sent, forward tone off seen, accept_delay running
    assert b.chan.timers.running("accept_delay")
    b.chan.hangup()
    clock.advance(3)
    assert "answered" not in a.names()
    assert a.chan.state == b.chan.state == "idle"


@pytest.mark.parametrize("dnis,ani,category", [("", "1", "national_subscriber"),
                                               ("12a", "1", "national_subscriber"),
                                               ("12", "x", "national_subscriber"),
                                               ("12", "1", "martian")])
def test_make_call_rejects_bad_arguments_without_side_effects(clock, dnis, ani, category):
    from r2.call import R2Channel
    sent = []
    ch = R2Channel(clock, "cn", cas_tx=sent.append, mf_tx=lambda s, d: None)
    with pytest.raises(ValueError):
        ch.make_call(dnis, ani, category)
    assert ch.state == "idle" and ch.direction is None and sent == [0b1011]


@pytest.mark.parametrize("variant,signal,reason", [("itu", 4, "congestion"), ("itu", 15, "congestion"),
                                                   ("cn", 5, "unallocated"), ("itu", 6, None)])
def test_forward_register_group_a_outcomes(variant, signal, reason):
    reg, sent, ev = _fwd(variant)
    reg.dispatch("start")
    reg.on(signal)
    reg.on(0)
    if reason is None:     # ITU A-6: address complete, charge, set up speech: accepted in group A
        assert ev == [("accepted", {"charge": True})]
    else:
        assert ev == [("rejected", {"reason": reason, "signal": f"A-{signal}"})]
    assert reg.state == "done"


def test_cti_decode_reads_a_saved_trace(tmp_path, capsys):
    from cti.cli import main
    clock, a, b = pair("itu", b_opts={"max_dnis": 1, "max_ani": 0})
    b.on_offered = lambda ch, f: ch.reject("unallocated")
    a.chan.make_call("7")
    clock.advance(5)
    path = tmp_path / "call.r2log"
    a.chan.traces[-1].save(str(path))
    assert main(["decode", str(path), "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert '"message": "released"' in out[-1] and '"r2": "B-5"' in out[-1]
    (tmp_path / "bad.r2log").write_text("# r2 circuit 1 variant itu\nnonsense\n")
    assert main(["decode", str(tmp_path / "bad.r2log")]) != 0
