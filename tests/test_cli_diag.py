"""`cti diag` in-process on simulated spans: every fault's alarms, BERT against the injected
BER, loopbacks, test tone, level and monitor; usage errors."""

from __future__ import annotations

import json
import math
import wave

import numpy as np
import pytest

from cti.cli import main
from drivers import diagnostics as dg


def diag(capsys, *argv) -> tuple[int, dict]:
    status = main(["diag", *argv, "--json"])
    out = capsys.readouterr().out
    return status, json.loads(out)


@pytest.mark.parametrize("impair,near,far", [
    ("none", [], []),
    ("los", ["LOS", "LOF"], ["RAI"]),
    ("ais", ["AIS"], ["RAI"]),
])
def test_alarms_per_fault(capsys, impair, near, far):
    status, doc = diag(capsys, "alarms", "--sim", "--impair", impair)
    assert status == 0
    assert doc["near"]["alarms"] == near and doc["far"]["alarms"] == far
    assert set(doc["near"]["counters"]) == {"crc4_errors", "ebit_errors", "fas_errors",
                                            "slips", "bpv"}


def test_errors_show_as_crc4_at_near_and_ebits_at_far(capsys):
    _, doc = diag(capsys, "counters", "--sim", "--impair", "ber=1e-4", "--seconds", "2")
    assert doc["near"]["counters"]["crc4_errors"] > 0
    assert doc["far"]["counters"]["ebit_errors"] > 0  # G.704 2.3.3.4: E-bits report them
    assert "alarms" not in doc["near"]


def test_slip_counter_follows_ppm(capsys):
    _, doc = diag(capsys, "counters", "--sim", "--impair", "slip=100ppm", "--seconds", "10")
    # 100 ppm of 8000 frames/s: a frame slip every 1.25 s
    assert 5 <= doc["near"]["counters"]["slips"] <= 9


def test_bert_measures_injected_ber(capsys):
    status, doc = diag(capsys, "bert", "--sim", "--impair", "ber=1e-4", "--seconds", "10")
    assert status == 0
    assert {"bits", "errors", "ber", "sync_losses"} <= set(doc)
    assert doc["bits"] > 0.99 * 31 * 64000 * 10 * 0.99 and doc["sync_losses"] == 0
    expected = doc["bits"] * 1e-4
    assert abs(doc["errors"] - expected) < 5 * math.sqrt(expected)  # Poisson, 5 sigma
    assert doc["ber"] == pytest.approx(doc["errors"] / doc["bits"])


def test_bert_clean_line_with_inserted_errors_counts_them_exactly(capsys):
    status, doc = diag(capsys, "bert", "--sim", "--timeslots", "1-3", "--separate",
                       "--inject", "4", "--seconds", "1", "--pattern", "2^11-1")
    assert status == 0 and doc["inserted"] == 12 and doc["errors"] == 12
    assert [v["errors"] for v in doc["per_timeslot"].values()] == [4, 4, 4]


def test_bert_error_rate_insertion(capsys):
    _, doc = diag(capsys, "bert", "--sim", "--timeslots", "5", "--inject-rate", "1e-3",
                  "--seconds", "2")
    assert doc["errors"] == pytest.approx(doc["bits"] * 1e-3, rel=0.01)


def test_bert_slips_lose_and_regain_sync(capsys):
    _, doc = diag(capsys, "bert", "--sim", "--impair", "slip=100ppm", "--seconds", "10")
    assert doc["sync_losses"] >= 5 and doc["in_sync"]


def test_bert_on_dead_line_fails(capsys):
    status, doc = diag(capsys, "bert", "--sim", "--impair", "los", "--seconds", "1")
    assert status == 1 and not doc["in_sync"] and doc["bits"] == 0 and doc["ber"] is None


@pytest.mark.parametrize("mode", ["local", "line", "payload"])
def test_loopbacks_carry_a_bert(capsys, mode):
    status, doc = diag(capsys, "loopback", mode, "--sim", "--seconds", "1",
                       "--timeslots", "1-3")
    assert status == 0 and doc["loopback"] == mode and not doc["kept"]
    assert doc["bert"]["in_sync"] and doc["bert"]["errors"] == 0 and doc["bert"]["bits"] > 0


def test_local_loopback_hides_a_dead_line(capsys):
    status, doc = diag(capsys, "loopback", "local", "--sim", "--impair", "los", "--seconds", "1")
    assert status == 0 and doc["bert"]["errors"] == 0


def test_test_tone_and_level(capsys):
    status, doc = diag(capsys, "tone", "--sim", "--timeslot", "7")
    assert status == 0
    assert doc["measured"]["hz"] == pytest.approx(1004, abs=1)  # the meter reports whole Hz
    assert doc["measured"]["dbm0"] == pytest.approx(-13.0, abs=0.3)
    _, doc = diag(capsys, "level", "--sim", "--send", "800", "--send-level", "-30")
    assert doc["dbm0"] == pytest.approx(-30.0, abs=0.3)
    assert doc["min_dbm0"] <= doc["dbm0"] <= doc["max_dbm0"]


def test_monitor_writes_stereo_wav(capsys, tmp_path):
    path = tmp_path / "ts3.wav"
    status, doc = diag(capsys, "monitor", "--sim", "--timeslot", "3", "--out", str(path),
                       "--seconds", "1")
    assert status == 0 and doc["rx_dbm0"] == pytest.approx(-13.0, abs=0.3)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 8000)
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    assert pcm.shape[0] == doc["seconds"] * 8000
    assert np.abs(pcm[:, 0]).max() > 1000 and np.abs(pcm[:, 1]).max() < 100


def test_human_output(capsys):
    assert main(["diag", "alarms", "--sim", "--impair", "los"]) == 0
    out = capsys.readouterr().out
    assert "near" in out and "LOS" in out and "far" in out


@pytest.mark.parametrize("argv", [
    ["alarms"],
    ["alarms", "--impair", "los"],
    ["bert", "--sim", "--impair", "ber=abc"],
    ["bert", "--sim", "--timeslots", "0-40"],
    ["bert", "--sim", "--pattern", "2^7-1"],
    ["monitor", "--sim"],
    ["alarms", "--config", "/nonexistent.toml", "--span", "a:1"],
])
def test_usage_errors_exit_2(capsys, argv):
    assert main(["diag", *argv]) == 2
    assert capsys.readouterr().err.startswith("cti diag")


def test_dahdi_board_from_config_without_dev_dahdi(capsys, tmp_path):
    import os
    if os.path.exists("/dev/dahdi/ctl"):
        pytest.skip("this machine has DAHDI")
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[board]]\nname = "card"\ntype = "dahdi"\ndevice = "1"\n')
    assert main(["diag", "alarms", "--config", str(cfg), "--span", "card:1"]) == 1
    err = capsys.readouterr().err
    assert "/dev/dahdi/ctl" in err and err.count("\n") == 1


def test_impairment_words():
    assert dg.parse_impairment("ber=1e-4+slip=10ppm") == {"ber": 1e-4, "ppm": 10.0}
    assert dg.parse_impairment("burst=200@500ms") == {"burst": (200, 0.5)}
    assert dg.parse_impairment("none") == {}
    with pytest.raises(ValueError):
        dg.parse_impairment("los=1")
    assert dg.parse_timeslots("1-3,5,2") == [1, 2, 3, 5]


def test_error_bursts(capsys):
    _, doc = diag(capsys, "counters", "--sim", "--impair", "burst=100@200ms", "--seconds", "2")
    # about ten bursts, each errors a CRC-4 sub-multiframe or two; the far end hears of
    # them through the E-bits (and of any multiframe realignment they cause)
    assert 5 <= doc["near"]["counters"]["crc4_errors"] <= 30
    assert doc["far"]["counters"]["ebit_errors"] >= doc["near"]["counters"]["crc4_errors"] - 1


def test_bert_table_names_timeslot_ranges(capsys):
    assert main(["diag", "bert", "--sim", "--signalling", "cas", "--seconds", "1"]) == 0
    assert "TS 1-15,17-31" in capsys.readouterr().out


def test_no_tone_on_a_dead_line(capsys):
    status, doc = diag(capsys, "tone", "--sim", "--impair", "los")
    assert status == 1 and doc["measured"]["hz"] is None


def test_pseudowire_board_from_config(capsys, tmp_path):
    """A real-time run on a pseudowire span whose peer never answers: LOS, and the packet
    counters alongside the E1 ones."""
    import socket

    ports = []
    for _ in range(2):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        ports.append(s.getsockname()[1])
        s.close()
    cfg = tmp_path / "pw.toml"
    cfg.write_text(f'[[board]]\nname = "pw"\ntype = "pseudowire"\ndevice = "{ports[0]}"\n'
                   f'peer = "127.0.0.1:{ports[1]}"\n')
    status, doc = diag(capsys, "counters", "--config", str(cfg), "--span", "pw:1",
                       "--seconds", "0.2")
    assert status == 0 and "far" not in doc
    assert doc["near"]["pseudowire"]["rx_packets"] == 0
    assert set(doc["near"]["counters"]) == {"crc4_errors", "ebit_errors", "fas_errors",
                                            "slips", "bpv"}
    status, doc = diag(capsys, "alarms", "--config", str(cfg), "--span", "pw:1",
                       "--seconds", "0.1")
    assert doc["near"]["alarms"] == ["LOS"]
