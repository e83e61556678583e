"""A classic Dialogic R4 sample flow, ported to drivers.dialogic and run on two simulated
E1 spans with CAS: the "PSTN" end is driven by this test (ABCD bits per Q.421 line
signalling with CD = 01, DTMF and tones through cti.media); the application end is the
R4 code: wait for the DTEV_SIG seizure, answer with dt_settssig, play a prompt from an
IOTT, collect three digits with a DV_TPT, route two channels together full duplex and
clear on the far end's clear-forward."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from cti.kernel import Kernel
from cti.media import MediaEngine
from drivers.base import Signalling, SpanConfig
from drivers.dialogic import (
    ATDX_TERMMSK,
    ATDX_TRCOUNT,
    DG_DTMF,
    DTA_SETMSK,
    DTB_ABIT,
    DTB_BBIT,
    DTB_DBIT,
    DTC_ABIT,
    DTEV_SIG,
    DTG_SIGEVT,
    DTMM_AOFF,
    DTMM_AON,
    DV_DIGIT,
    DV_TPT,
    DX_IDDTIME,
    DX_IOTT,
    DX_MAXDTMF,
    EV_ASYNC,
    IO_CONT,
    IO_EOT,
    IO_MEM,
    MD_PCM,
    PM_ALAW,
    PM_SR8,
    SC_TSINFO,
    TDX_GETDIG,
    TDX_PLAY,
    TF_IDDTIME,
    TF_MAXDTMF,
    TM_EOD,
    TM_MAXDTMF,
    dt_getxmitslot,
    dt_listen,
    dt_open,
    dt_setevtmsk,
    dt_settssig,
    dt_unlisten,
    dx_clrdigbuf,
    dx_getdig,
    dx_getxmitslot,
    dx_listen,
    dx_open,
    dx_play,
    dx_unlisten,
    sr_getevtdatap,
    sr_getevtdev,
    sr_getevttype,
    sr_waitevt,
)
from drivers.dialogic.api import sr_attach
from drivers.sim import cabled_pair
from timeslot.g711 import alaw_decode
from timeslot.tonegen import synth

# Q.421 line signals as ABCD nibbles (A = MSB; C = 0, D = 1 on E1, G.704 5.1.3.2)
IDLE, SEIZE = 0b1001, 0b0001  # forward: idle af=1, seizure af=0
ANSWERED = 0b0101  # backward: ab = 01


def dominant_hz(codes: np.ndarray) -> float:
    x = alaw_decode(codes).astype(float)
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec)) * 8000.0 / len(x)


@pytest.fixture
def rig():
    kernel = Kernel(virtual=True)
    cas = SpanConfig(signalling=Signalling.CAS)
    pstn, cc = cabled_pair("pstn", "cc", config=cas)
    kernel.add_ticker(pstn.system)
    p = kernel.add_span(pstn.spans[0])
    rt = sr_attach(kernel)
    rt.add_span(cc.spans[0])
    rt.add_voice(4)
    far = MediaEngine(kernel)
    for ts in (1, 2):
        pstn.spans[0].cas_tx(ts, IDLE)
    yield kernel, far, p, pstn.spans[0]
    kernel.close()


def test_answer_play_getdigits_route_and_clear(rig):
    kernel, far, p, far_span = rig
    heard: dict[str, object] = {}

    async def until(pred, limit: float = 10.0) -> None:
        t0 = kernel.now()
        while not pred():
            assert kernel.now() - t0 < limit, "far end waited too long"
            await asyncio.sleep(0.02)

    async def far_end() -> None:
        await asyncio.sleep(1.0)  # frame and CAS multiframe alignment
        far_span.cas_tx(1, SEIZE)
        await until(lambda: far_span.cas_rx()[1] == ANSWERED)
        heard["prompt"] = (await far.record(p + 1, max_time=1.5, silence=None, beep=False)).data["audio"]
        await asyncio.sleep(0.3)
        await far.send_dtmf(p + 1, "472")
        # the application routes TS1 <-> TS2: DTMF one way, a tone the other way
        await until(lambda: heard.get("routed", False))
        far.enable_digits(p + 2)
        await far.send_dtmf(p + 1, "9#")
        heard["crossed"] = (await far.collect(p + 2, max_digits=2, terminators="", first_timeout=3)).digits
        rec = asyncio.ensure_future(far.record(p + 1, max_time=1.0, silence=None, beep=False))
        await far.tone(p + 2, "dial", seconds=1.2)
        heard["tone"] = (await rec).data["audio"]
        far_span.cas_tx(1, IDLE)  # clear forward

    task = asyncio.ensure_future(far_end(), loop=kernel.loop)

    # ---- the ported R4 application -------------------------------------------------------
    dti, dti2 = dt_open("dtiB1T1"), dt_open("dtiB1T2")
    vox = dx_open("dxxxB1C1")
    assert min(dti, dti2, vox) > 0
    assert dt_settssig(dti, DTB_ABIT | DTB_DBIT, DTA_SETMSK) == 0  # backward idle
    assert dt_setevtmsk(dti, DTG_SIGEVT, DTMM_AON | DTMM_AOFF, DTA_SETMSK) == 0
    assert sr_waitevt(5000) == 0
    assert (sr_getevttype(), sr_getevtdev()) == (DTEV_SIG, dti)
    sig = sr_getevtdatap()
    assert sig & DTC_ABIT and not sig & DTB_ABIT  # A went off: seizure
    assert dt_settssig(dti, DTB_BBIT | DTB_DBIT, DTA_SETMSK) == 0  # answer

    line, res = SC_TSINFO(), SC_TSINFO()
    assert dt_getxmitslot(dti, line) == 0 and dx_getxmitslot(vox, res) == 0
    assert dx_listen(vox, line) == 0 and dt_listen(dti, res) == 0  # full duplex

    prompt = synth(440.0, seconds=1.0, level=-10.0)
    iott = [DX_IOTT(IO_MEM | IO_CONT, io_bufp=prompt.tobytes(), io_length=4000),
            DX_IOTT(IO_MEM | IO_EOT, io_bufp=prompt.tobytes(), io_offset=4000)]
    dx_clrdigbuf(vox)
    assert dx_play(vox, iott, None, EV_ASYNC | MD_PCM | PM_ALAW | PM_SR8) == 0
    assert sr_waitevt(-1) == 0 and (sr_getevttype(), sr_getevtdev()) == (TDX_PLAY, vox)
    assert ATDX_TERMMSK(vox) == TM_EOD and ATDX_TRCOUNT(vox) == 8000

    digits = DV_DIGIT()
    tpt = [DV_TPT(IO_CONT, DX_MAXDTMF, 3, TF_MAXDTMF),
           DV_TPT(IO_EOT, DX_IDDTIME, 50, TF_IDDTIME)]  # 5 s, in 100 ms units
    assert dx_getdig(vox, tpt, digits, EV_ASYNC) == 0
    assert sr_waitevt(-1) == 0 and sr_getevttype() == TDX_GETDIG
    assert ATDX_TERMMSK(vox) & TM_MAXDTMF and digits.dg_value == "472"
    assert digits.dg_type == [DG_DTMF] * 3

    # bridge the caller (TS1) to a second line (TS2), full duplex
    assert dx_unlisten(vox) == 0
    second = SC_TSINFO()
    assert dt_getxmitslot(dti2, second) == 0
    assert dt_listen(dti, second) == 0 and dt_listen(dti2, line) == 0
    heard["routed"] = True

    assert sr_waitevt(-1) == 0 and sr_getevttype() == DTEV_SIG
    sig = sr_getevtdatap()
    assert sig & DTC_ABIT and sig & DTB_ABIT  # A back on: clear forward
    assert dt_unlisten(dti) == 0 and dt_unlisten(dti2) == 0
    assert dt_settssig(dti, DTB_ABIT | DTB_DBIT, DTA_SETMSK) == 0
    kernel.run(task)

    assert abs(dominant_hz(heard["prompt"]) - 440.0) < 10.0
    assert heard["crossed"] == "9#"
    assert abs(dominant_hz(heard["tone"]) - 425.0) < 10.0  # ITU dial tone crossed the bridge
