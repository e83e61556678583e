"""Test-signal synthesis for the tone detectors, in numpy only.

Independent of the project's tone generators and G.711 core on purpose: tones are
computed from their definitions and coded with a separate numpy G.711 A-law coder
(the classic segment search of G.711 clause 3.2).

Levels: 0 dBm0 is a sine of peak 22827 on the int16 scale, 3.14 dB below the
full-scale sine (peak 32768), the A-law reference of G.711; linear tests use the same.
Signal-to-noise ratios are total tone power over white-noise power in the 0-4 kHz band.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

RATE = 8000
DBM0_PEAK = 22827.0

DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
DTMF_KEYS = "123A456B789C*0#D"
DIGITS = DTMF_KEYS

R2_FORWARD = (1380.0, 1500.0, 1620.0, 1740.0, 1860.0, 1980.0)
R2_BACKWARD = (1140.0, 1020.0, 900.0, 780.0, 660.0, 540.0)
# Q.441 Table 5: signal n -> indices (f_a, f_b) into the frequency list
R2_PAIRS = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3), (0, 4), (1, 4), (2, 4), (3, 4),
            (0, 5), (1, 5), (2, 5), (3, 5), (4, 5))

_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def amplitude(dbm0: float) -> float:
    return DBM0_PEAK * 10.0 ** (dbm0 / 20.0)


def power(dbm0: float) -> float:
    return amplitude(dbm0) ** 2 / 2.0


def tones(freqs: tuple[float, ...], levels: tuple[float, ...], n: int,
          rng: np.random.Generator) -> np.ndarray:
    """Sum of sines at random phases; levels in dBm0."""
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for f, lv in zip(freqs, levels, strict=True):
        out += amplitude(lv) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    return out


def dtmf_pair(digit: str) -> tuple[float, float]:
    i = DTMF_KEYS.index(digit)
    return DTMF_LOW[i // 4], DTMF_HIGH[i % 4]


def dtmf(digit: str, ms: float, rng: np.random.Generator, level: float = -10.0,
         twist: float = 0.0, low_dev: float = 0.0, high_dev: float = 0.0,
         single: str | None = None) -> np.ndarray:
    """One DTMF tone burst: low tone at ``level``, high at ``level + twist`` dBm0;
    ``*_dev`` are relative frequency deviations (0.015 = +1.5 %); ``single`` = "low" or
    "high" sends that tone alone."""
    lo, hi = dtmf_pair(digit)
    freqs = [lo * (1 + low_dev), hi * (1 + high_dev)]
    levels = [level, level + twist]
    if single == "low":
        freqs, levels = freqs[:1], levels[:1]
    elif single == "high":
        freqs, levels = freqs[1:], levels[1:]
    return tones(tuple(freqs), tuple(levels), int(round(ms * RATE / 1000)), rng)


def r2(signal: int, ms: float, rng: np.random.Generator, direction: str = "forward",
       level: float = -15.0, twist: float = 0.0, dev: tuple[float, float] = (0.0, 0.0)
       ) -> np.ndarray:
    """MFC-R2 signal 1..15 (Q.441); the second frequency at ``level + twist``; ``dev`` in Hz."""
    table = R2_FORWARD if direction == "forward" else R2_BACKWARD
    a, b = R2_PAIRS[signal - 1]
    return tones((table[a] + dev[0], table[b] + dev[1]), (level, level + twist),
                 int(round(ms * RATE / 1000)), rng)


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(round(ms * RATE / 1000)))


def concat(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts)


def add_noise(x: np.ndarray, snr_db: float, signal_power: float,
              rng: np.random.Generator) -> np.ndarray:
    """White Gaussian noise at ``signal_power / 10^(snr/10)``."""
    return x + rng.normal(0.0, np.sqrt(signal_power / 10 ** (snr_db / 10)), len(x))


def alaw_encode(x: np.ndarray) -> np.ndarray:
    """Linear (int16 scale, clipped) to A-law characters (G.711 clause 3.2, even bits inverted)."""
    pcm = np.clip(np.round(x), -32768, 32767).astype(np.int32) >> 3
    mask = np.where(pcm >= 0, 0xD5, 0x55)
    mag = np.where(pcm >= 0, pcm, -pcm - 1)
    seg = np.searchsorted(_SEG_END, mag)
    mant = np.where(seg < 2, mag >> 1, mag >> np.maximum(seg, 1)) & 0xF
    code = np.where(seg >= 8, 0x7F, (np.minimum(seg, 7) << 4) | mant)
    return (code ^ mask).astype(np.uint8)


def alaw_decode(a: np.ndarray) -> np.ndarray:
    """A-law characters to linear int16 (Table 1 decoder value x 8)."""
    a = a.astype(np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


def aligned(x: np.ndarray, rng: np.random.Generator, lead_max: int = 160,
            tail_ms: float = 120.0) -> tuple[np.ndarray, int]:
    """Random leading silence (random block alignment) and a silent tail; (signal, lead)."""
    lead = int(rng.integers(0, lead_max))
    return concat(np.zeros(lead), x, silence(tail_ms)), lead


def blocks(codes: np.ndarray, size: int = 160) -> list[np.ndarray]:
    """Split a 1-D code stream into [1 x size] blocks (the last one may be shorter)."""
    return [codes[None, i:i + size] for i in range(0, len(codes), size)]


class Case(NamedTuple):
    """One conformance signal: linear samples and the digits a receiver must report."""

    row: str
    expect: str
    signal: np.ndarray


def _digit_case(row: str, digit: str, burst: np.ndarray, expect: bool,
                rng: np.random.Generator) -> Case:
    sig, _ = aligned(burst, rng)
    return Case(row, digit if expect else "", sig)


def dtmf_rows(rng: np.random.Generator) -> list[tuple[str, list[Case]]]:
    """The DTMF bounds (Q.24 and the classic test tapes), each row over all 16 digits at a
    random block alignment: (row name, cases)."""
    rows: list[tuple[str, list[Case]]] = []

    def row(name: str, make, expect: bool = True) -> None:
        rows.append((name, [_digit_case(name, d, make(d), expect, rng) for d in DIGITS]))

    for dev in (0.015, -0.015):
        row(f"both tones {dev:+.1%}", lambda d, v=dev: dtmf(d, 60, rng, low_dev=v, high_dev=v))
        row(f"low tone {dev:+.1%}", lambda d, v=dev: dtmf(d, 60, rng, low_dev=v))
        row(f"high tone {dev:+.1%}", lambda d, v=dev: dtmf(d, 60, rng, high_dev=v))
    for dev in (0.035, -0.035):
        row(f"low tone {dev:+.1%}", lambda d, v=dev: dtmf(d, 60, rng, low_dev=v), False)
        row(f"high tone {dev:+.1%}", lambda d, v=dev: dtmf(d, 60, rng, high_dev=v), False)
    row("twist +4 dB", lambda d: dtmf(d, 60, rng, level=-14, twist=4))
    row("twist -8 dB", lambda d: dtmf(d, 60, rng, level=-6, twist=-8))
    row("duration 40 ms", lambda d: dtmf(d, 40, rng))
    for ms in (23, 21):
        row(f"duration {ms} ms", lambda d, m=ms: dtmf(d, m, rng), False)
    row("level 0 dBm0", lambda d: dtmf(d, 60, rng, level=0))
    row("level -36 dBm0", lambda d: dtmf(d, 60, rng, level=-36))
    row("15 dB SNR", lambda d: add_noise(aligned(dtmf(d, 60, rng), rng)[0], 15,
                                         2 * power(-10), rng))
    rows.append(("two digits, 40 ms pause", [
        Case("two digits, 40 ms pause", d + d,
             aligned(concat(dtmf(d, 50, rng), silence(40), dtmf(d, 50, rng)), rng)[0])
        for d in DIGITS]))
    rows.append(("10 ms break in one digit", [
        Case("10 ms break in one digit", d,
             aligned(concat(dtmf(d, 50, rng), silence(10), dtmf(d, 50, rng)), rng)[0])
        for d in DIGITS]))
    return rows


# ---- speech for talk-off: espeak-ng voices, resampled to 8 kHz by sox ----

SPEECH = {
    "en": "Thank you for calling. All of our agents are busy at the moment. Your call is "
          "important to us, so please stay on the line and someone will be with you shortly. "
          "You can also visit our web site for opening hours, prices and delivery times.",
    "de": "Guten Tag und herzlich willkommen. Leider sind alle Mitarbeiter im Gespräch. Bitte "
          "bleiben Sie am Apparat, der nächste freie Platz ist für Sie reserviert. Vielen Dank "
          "für Ihre Geduld und auf Wiederhören.",
    "fr": "Bonjour et bienvenue. Tous nos conseillers sont actuellement occupés. Merci de "
          "patienter quelques instants, votre appel va être traité dans les meilleurs délais. "
          "Vous pouvez aussi consulter notre site pour suivre votre commande.",
    "es": "Buenos días y gracias por llamar. En este momento todos nuestros agentes están "
          "ocupados. Por favor, permanezca en la línea y le atenderemos lo antes posible. "
          "También puede consultar nuestra página para conocer los horarios.",
    "zh": "您好，欢迎致电客户服务中心。目前所有座席都在忙，请您耐心等待，我们将尽快为您服务。"
          "您也可以访问我们的网站查询订单状态和营业时间，谢谢您的来电。",
}
PITCHES = (25, 60, 90)


def speech() -> np.ndarray:
    """About two and a half minutes of 8 kHz speech (5 languages x 3 voice pitches), each
    part normalised to -20 dBm0 RMS; cached in the temp directory.  Needs espeak-ng and sox
    (FileNotFoundError when missing)."""
    espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
    if espeak is None or sox is None:
        raise FileNotFoundError("espeak-ng and sox are needed for speech")
    cache = Path(tempfile.gettempdir()) / f"ctikernel-talkoff-{os.getuid()}"
    cache.mkdir(exist_ok=True)
    parts = []
    for lang, text in SPEECH.items():
        for pitch in PITCHES:
            raw = cache / f"{lang}-{pitch}.raw"
            if not raw.exists():
                wav = cache / f"{lang}-{pitch}.wav"
                subprocess.run([espeak, "-v", lang, "-p", str(pitch), "-w", str(wav), text],
                               check=True, capture_output=True)
                tmp = raw.with_suffix(".tmp")
                subprocess.run([sox, str(wav), "-r", "8000", "-c", "1", "-b", "16", "-e",
                                "signed-integer", "-t", "raw", str(tmp)],
                               check=True, capture_output=True)
                tmp.replace(raw)
            x = np.fromfile(raw, np.int16).astype(float)
            parts.append(x * np.sqrt(power(-20) / np.mean(x ** 2)))
    return np.concatenate(parts)
