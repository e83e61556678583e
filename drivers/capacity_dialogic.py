"""Dialogic R4 layer capacity (``cti bench``): share of one core the voice stage takes.

Load: 480 voice channels (sixteen E1s' worth) routed in pairs on the fabric; every
even channel plays a long prompt with a DX_DIGMASK terminator, every odd one is in
dx_getdig with DX_MAXDTMF, DX_MAXSIL and DX_MAXTIME, so DTMF detection, energy
measurement and the per-tick terminator checks all run on every channel.  There is no
Dialogic library to compare with; the same-run reference is the same traffic through the
kernel's native media API (cti.media.MediaEngine play + collect), which shows what the
R4 semantics cost on top.
"""

from __future__ import annotations

import asyncio

import numpy as np

from core.bench import BenchResult, cpu_seconds

CHANNELS = 480
PROMPT_S = 600


def _kernel():
    from cti.kernel import Kernel

    return Kernel(virtual=True)


def _dialogic_load():
    import drivers.dialogic as D
    from drivers.dialogic.api import sr_attach
    from timeslot.tonegen import synth

    kernel = _kernel()
    rt = sr_attach(kernel)
    names = rt.add_voice(CHANNELS)
    hs = [D.dx_open(n) for n in names]
    prompt = np.resize(synth(500.0, seconds=1.0, level=-12.0), PROMPT_S * 8000).tobytes()
    for a, b in zip(hs[::2], hs[1::2], strict=True):
        ta, tb = D.SC_TSINFO(), D.SC_TSINFO()
        D.dx_getxmitslot(a, ta)
        D.dx_getxmitslot(b, tb)
        D.dx_listen(a, tb)
        D.dx_listen(b, ta)
        D.dx_play(a, D.DX_IOTT(D.IO_MEM | D.IO_EOT, io_bufp=prompt),
                  [D.DV_TPT(D.IO_EOT, D.DX_DIGMASK, D.DM_P, D.TF_DIGMASK)],
                  D.EV_ASYNC | D.MD_PCM | D.PM_ALAW | D.PM_SR8)
        D.dx_getdig(b, [D.DV_TPT(D.IO_CONT, D.DX_MAXDTMF, 4, D.TF_MAXDTMF),
                        D.DV_TPT(D.IO_CONT, D.DX_MAXSIL, 6000, D.TF_MAXSIL),
                        D.DV_TPT(D.IO_EOT, D.DX_MAXTIME, 6000, D.TF_MAXTIME)],
                    D.DV_DIGIT(), D.EV_ASYNC)
    return kernel, lambda: sum(D.ATDX_STATE(h) != D.CS_IDLE for h in hs)


def _native_load():
    from cti.media import MediaEngine
    from timeslot.tonegen import synth

    kernel = _kernel()
    base = kernel.allocate(CHANNELS, "voice")
    media = MediaEngine(kernel)
    prompt = np.resize(synth(500.0, seconds=1.0, level=-12.0), PROMPT_S * 8000)
    for a in range(base, base + CHANNELS, 2):
        kernel.fabric.connect(a, a + 1)
    tasks = []
    for a in range(base, base + CHANNELS, 2):
        tasks.append(kernel.loop.create_task(media.play(a, [prompt], interrupt="#")))
        tasks.append(kernel.loop.create_task(media.collect(a + 1, max_digits=4, first_timeout=600)))
    kernel.loop.run_until_complete(asyncio.sleep(0))  # the operations start

    def running() -> int:
        n = sum(not t.done() for t in tasks)
        for t in tasks:
            t.cancel()
        kernel.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        return n
    return kernel, running


def _percent(load, quick: bool) -> tuple[float, int, int]:
    kernel, running = load()
    per_tick, runs = cpu_seconds(kernel.tick, 0.3 if quick else 2.0)
    active = running()
    kernel.close()
    return 100.0 * per_tick / kernel.block_s, runs, active


def dialogic_voice_480(quick: bool) -> BenchResult:
    ours, runs, active = _percent(_dialogic_load, quick)
    ref, _, ref_active = _percent(_native_load, quick)
    return BenchResult("dialogic_voice_480ch", ours, "percent_of_core", peer="cti.media (native API)",
                       peer_value=ref, notes=[
                           f"{CHANNELS} channels, 20 ms ticks, {runs} ticks timed, {active} "
                           f"operations running at the end ({ref_active} native); no Dialogic library "
                           "peer: the reference is the kernel's own media API on the same traffic"])


BENCHES = [dialogic_voice_480]
