"""BERT capacity (``cti bench``): 64 kbit/s channels generated and checked per core.

Ours: one :class:`timeslot.prbs.PrbsGenerator` and one :class:`PrbsChecker` over
``channels`` timeslots (2^15-1, O.151), 160-frame blocks, with errors inserted at 1e-4.
Peer: spandsp's ``bert`` (the same O.151 pattern) driven bit by bit from a small C program
the bench compiles against libspandsp, so no Python sits in its loop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import cache

import numpy as np

from core.bench import BenchResult, cpu_seconds
from timeslot.prbs import PrbsChecker, PrbsGenerator

RATE = 8000
BLOCK = 160
BITS_PER_CHANNEL = 64000

PEER_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <spandsp.h>
int main(int argc, char **argv) {
    long bits = atol(argv[1]);
    bert_state_t *tx = bert_init(NULL, 0, BERT_PATTERN_ITU_O151_15, 300, 20);
    bert_state_t *rx = bert_init(NULL, 0, BERT_PATTERN_ITU_O151_15, 300, 20);
    bert_results_t r;
    clock_t t0 = clock();
    for (long i = 0; i < bits; i++)
        bert_put_bit(rx, bert_get_bit(tx));
    double cpu = (double) (clock() - t0) / CLOCKS_PER_SEC;
    bert_result(rx, &r);
    printf("%.6f %d %d\n", cpu, r.total_bits, r.bad_bits);
    return r.bad_bits != 0;
}
"""


@cache
def _peer_program() -> str | None:
    gcc = shutil.which("gcc")
    if gcc is None:
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="cti_bert_"), "bert_peer")
    src = out + ".c"
    with open(src, "w") as f:
        f.write(PEER_C)
    done = subprocess.run([gcc, "-O2", src, "-o", out, "-lspandsp", "-ltiff", "-lm"],
                          capture_output=True)
    if done.returncode != 0:
        done = subprocess.run([gcc, "-O2", src, "-o", out, "-lspandsp", "-lm"],
                              capture_output=True)
    return out if done.returncode == 0 else None


def ours_channels_per_core(channels: int, seconds: float) -> float:
    gen, chk = PrbsGenerator("2^15-1", channels), PrbsChecker("2^15-1", channels)
    gen.set_error_rate(1e-4)
    block = np.empty((channels, BLOCK), dtype=np.uint8)
    blocks = int(seconds * RATE / BLOCK)

    def run() -> None:
        for _ in range(blocks):
            gen.fill(block)
            chk.process(block)

    cpu, _ = cpu_seconds(run)
    return channels * seconds / cpu


def spandsp_channels_per_core(seconds: float) -> float | None:
    exe = _peer_program()
    if exe is None:
        return None
    bits = int(seconds * BITS_PER_CHANNEL * 20)
    out = subprocess.run([exe, str(bits)], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return None
    cpu = float(out.stdout.split()[0])
    return bits / BITS_PER_CHANNEL / cpu if cpu > 0 else None


def bert_channels(quick: bool) -> BenchResult:
    channels = 16 * 31
    seconds = 0.5 if quick else 2.0
    ours = ours_channels_per_core(channels, seconds)
    peer = spandsp_channels_per_core(seconds)
    notes = [f"{channels} x 64 kbit/s, O.151 2^15-1, generate + check, errors at 1e-4"]
    if peer is None:
        notes.append("spandsp peer not available (libspandsp-dev and gcc)")
    return BenchResult("bert_channels", ours, "channels/core", "spandsp bert", peer, notes)


BENCHES = [bert_channels]
