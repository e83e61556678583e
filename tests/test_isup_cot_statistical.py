"""ISUP continuity checking: the check-tone receiver's limits (Q.724 7.4, referred to by
Q.764 2.1.8) at and around their edges, and statistical checking - the continuity-check
indicator set on every Nth call of a circuit group (Q.764 2.1.8, Q.763 3.35)."""

from __future__ import annotations

import numpy as np
import pytest

from cti.continuity import (
    CHECK_TONE_HZ,
    NON_OPERATE_DBM0,
    NON_OPERATE_HZ,
    OPERATE_DBM0,
    OPERATE_HZ,
    SEND_DBM0,
    CheckToneReceiver,
    check_tone_recognised,
)
from tests.dsp_signals import alaw_encode, concat, silence, tones


def _hear(hz: float, dbm0: float, ms: float = 300.0, seed: int = 0) -> CheckToneReceiver:
    """A returned tone (A-law, random phase and block alignment) through one receiver."""
    rng = np.random.default_rng(seed)
    lead = silence(float(rng.integers(0, 20)))
    codes = alaw_encode(concat(lead, tones((hz,), (dbm0,), int(ms * 8), rng), silence(60)))
    rx = CheckToneReceiver("alaw")
    rx.recognised = any(rx.feed(codes[None, i:i + 160]) for i in range(0, len(codes), 160))
    return rx


@pytest.mark.parametrize("hz,dbm0", [
    (CHECK_TONE_HZ, SEND_DBM0),                        # a loop without loss
    (CHECK_TONE_HZ - 20, SEND_DBM0 - 1),               # the sender's own tolerances
    (CHECK_TONE_HZ + 20, SEND_DBM0 + 1),
    (CHECK_TONE_HZ - OPERATE_HZ + 3, SEND_DBM0),       # just inside the frequency window
    (CHECK_TONE_HZ + OPERATE_HZ - 3, SEND_DBM0),
    (CHECK_TONE_HZ, OPERATE_DBM0[0] + 0.5),            # 5.5 dB loop loss
    (CHECK_TONE_HZ, OPERATE_DBM0[1] - 0.5),            # 5.5 dB loop gain
    (CHECK_TONE_HZ + 25, OPERATE_DBM0[0] + 0.5),       # both edges at once
])
def test_check_tone_inside_the_operate_limits_is_recognised(hz, dbm0):
    for seed in range(3):
        rx = _hear(hz, dbm0, seed=seed)
        assert rx.recognised, (hz, dbm0, rx.measured)


@pytest.mark.parametrize("hz,dbm0", [
    (CHECK_TONE_HZ, NON_OPERATE_DBM0),                 # 15 dB loop loss: must not operate
    (CHECK_TONE_HZ, NON_OPERATE_DBM0 - 6),
    (CHECK_TONE_HZ - NON_OPERATE_HZ, SEND_DBM0),       # outside 2000 +-200 Hz: must not
    (CHECK_TONE_HZ + NON_OPERATE_HZ, SEND_DBM0),
    (1000.0, SEND_DBM0), (2100.0, SEND_DBM0),          # other tones
    (CHECK_TONE_HZ, OPERATE_DBM0[0] - 1.5),            # open band: this receiver says no
    (CHECK_TONE_HZ, OPERATE_DBM0[1] + 1.5),
    (CHECK_TONE_HZ + OPERATE_HZ + 10, SEND_DBM0),
    (CHECK_TONE_HZ - OPERATE_HZ - 10, SEND_DBM0),
])
def test_tone_outside_the_operate_limits_is_rejected(hz, dbm0):
    for seed in range(3):
        assert not _hear(hz, dbm0, seed=seed).recognised


def test_a_tone_shorter_than_the_recognition_time_is_rejected():
    assert not _hear(CHECK_TONE_HZ, SEND_DBM0, ms=30).recognised
    assert _hear(CHECK_TONE_HZ, SEND_DBM0, ms=120).recognised


def test_a_rejected_tone_is_measured_not_missed():
    """The window is a decision on a measurement: a weak tone is heard and judged."""
    rx = _hear(CHECK_TONE_HZ, -30.0)
    (hz, dbm0), = rx.measured
    assert abs(hz - CHECK_TONE_HZ) <= 2 and abs(dbm0 + 30.0) < 0.5
    assert not rx.recognised


def test_window_function_edges():
    assert check_tone_recognised(CHECK_TONE_HZ + OPERATE_HZ, OPERATE_DBM0[0])
    assert check_tone_recognised(CHECK_TONE_HZ - OPERATE_HZ, OPERATE_DBM0[1])
    assert not check_tone_recognised(CHECK_TONE_HZ + OPERATE_HZ + 1, SEND_DBM0)
    assert not check_tone_recognised(CHECK_TONE_HZ, OPERATE_DBM0[0] - 0.01)
    assert not check_tone_recognised(CHECK_TONE_HZ, OPERATE_DBM0[1] + 0.01)


# ---- statistical continuity checking of a circuit group ------------------------------------------
def _trunks(ratio: int):
    from cti.trunks.ss7 import Ss7Trunk
    from tests.kernel_rig import back_to_back

    rig = back_to_back()
    out = Ss7Trunk(rig.kernel, "pstn", rig.pstn, opc=1, dpc=2, continuity_ratio=ratio)
    inc = Ss7Trunk(rig.kernel, "cc", rig.cc, opc=2, dpc=1, on_offered=rig.offered.append)
    rig.links_up(out, inc)
    return rig, out, inc


def test_every_nth_call_of_the_group_asks_for_the_check():
    """Ratio 3: calls 3 and 6 carry continuity-check indicator 1 (Q.763 3.35 bits DC = 01)
    and get the transceiver; the far end loops exactly those circuits.  A call that says
    for itself is not counted."""
    import asyncio

    from cti.calls import Call

    rig, out, inc = _trunks(3)
    iams: list[int] = []
    send = out.node.isup.send

    def spy(dpc, cic, name, fields=None, *a, **k):
        if name == "IAM":
            iams.append(fields["nature_of_connection"]["continuity_check"])
        return send(dpc, cic, name, fields, *a, **k)

    out.node.isup.send = spy
    transceived: list[int] = []
    transceive = out.continuity.transceive
    out.continuity.transceive = lambda slot, cb: (transceived.append(slot), transceive(slot, cb))

    async def scenario():
        calls = []
        for n in range(7):
            call = Call(trunk=out, direction="out", dnis=f"400{n}", ani="0212345678",
                        clock=rig.kernel.now)
            if n == 3:
                call.data["continuity_check"] = 0  # the application decides this one
            call.dial()
            calls.append(call)
        await asyncio.sleep(0.1)
        return calls

    calls = rig.kernel.run(scenario())
    checked = [n for n, c in enumerate(calls) if c.data.get("continuity_check") == 1]
    assert checked == [2, 6]  # 3rd and 6th of the calls the trunk decides (n=3 not counted)
    assert sorted(iams) == [0] * 5 + [1] * 2
    assert sorted(calls[n].slot for n in checked) == sorted(transceived)
    rig.kernel.close()


def test_ratio_zero_checks_no_call_and_bad_ratios_are_refused():
    from cti.trunks.ss7 import Ss7Trunk
    from tests.kernel_rig import back_to_back

    rig = back_to_back()
    with pytest.raises(ValueError, match="continuity_ratio"):
        Ss7Trunk(rig.kernel, "x", rig.pstn, opc=1, dpc=2, continuity_ratio=-1)
    with pytest.raises(ValueError, match="voice path"):
        Ss7Trunk(rig.kernel, "y", None, opc=1, dpc=2, continuity_ratio=2,
                 transport=object())
    out = Ss7Trunk(rig.kernel, "pstn", rig.pstn, opc=1, dpc=2)
    assert not any(out._statistical_check() for _ in range(50))
    rig.kernel.close()


def test_config_key_continuity_ratio(tmp_path):
    from core.errors import ConfigError
    from cti.config import Config

    base = """
[kernel]
virtual = true
[[board]]
name = "cc"
type = "sim"
[[trunk]]
name = "t"
type = "%s"
span = "cc:1"
opc = 1
dpc = 2
continuity_ratio = %d
"""
    p = tmp_path / "k.toml"
    p.write_text(base % ("ss7", 10))
    assert Config.load(str(p))["trunk"][0]["continuity_ratio"] == 10
    p.write_text(base % ("isdn", 10))
    with pytest.raises(ConfigError, match="continuity_ratio"):
        Config.load(str(p))


def test_weakest_check_tone_is_recognised_through_line_noise_and_noise_alone_is_not():
    """A returned tone at the operate limit with white noise 25 dB below it still passes (a
    line's idle noise is far lower); noise alone, at check-tone level, never does."""
    from tests.dsp_signals import add_noise, power

    rng = np.random.default_rng(7)
    for _ in range(3):
        level = OPERATE_DBM0[0] + 0.5
        noisy = add_noise(tones((CHECK_TONE_HZ,), (level,), 2400, rng), 25, power(level), rng)
        codes = alaw_encode(concat(noisy, silence(60)))
        rx = CheckToneReceiver("alaw")
        assert any(rx.feed(codes[None, i:i + 160]) for i in range(0, len(codes), 160))
        noise = alaw_encode(rng.normal(0.0, np.sqrt(power(SEND_DBM0)), 8000))
        rx = CheckToneReceiver("alaw")
        assert not any(rx.feed(noise[None, i:i + 160]) for i in range(0, len(noise), 160))
