"""Config errors name file, line and key."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from cti.config import Config

GOOD = """
[kernel]
block = 160
virtual = true

[[board]]
name = "cc"
type = "sim"
spans = 2

[[trunk]]
name = "pri"
type = "isdn"
span = "cc:1"
side = "user"
timers = { T303 = 6 }

[[route]]
dnis = "^4"
to = "ivr:demo"
"""


def load(tmp_path, text):
    p = tmp_path / "k.toml"
    p.write_text(text)
    return Config.load(str(p)), str(p)


def test_good_config_with_defaults(tmp_path):
    cfg, _ = load(tmp_path, GOOD)
    assert cfg["kernel"]["block"] == 160 and cfg["kernel"]["law"] == "alaw"
    assert cfg["trunk"][0]["timers"] == {"T303": 6}
    assert cfg["api"]["host"] == "127.0.0.1"


@pytest.mark.parametrize("edit, line, key", [
    (('side = "user"', 'side = "both"'), 15, "trunk[0].side"),
    (('spans = 2', 'spans = "two"'), 9, "board[0].spans"),
    (('to = "ivr:demo"', 'to = "nowhere"'), 20, "route[0].to"),
    (('block = 160', 'blok = 160'), 3, "kernel.blok"),
    (('span = "cc:1"', 'span = "xx:1"'), 14, "trunk[0].span"),
    (('side = "user"', 'side = "user"\nchannels = "1-16"'), 16, "trunk[0].channels"),
])
def test_errors_name_file_line_and_key(tmp_path, edit, line, key):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, GOOD.replace(*edit))
    msg = str(e.value)
    assert e.value.line == line and e.value.key == key
    assert msg.startswith(f"{tmp_path / 'k.toml'}:{line}: key '{key}'")


def test_toml_syntax_error_has_line(tmp_path):
    with pytest.raises(ConfigError) as e:
        load(tmp_path, "[kernel]\nblock = = 3\n")
    assert e.value.line == 2


def test_missing_file():
    with pytest.raises(ConfigError, match="nope.toml"):
        Config.load("/nonexistent/nope.toml")


def test_every_key_is_documented():
    import os

    from cti.config import reference_markdown

    path = os.path.join(os.path.dirname(__file__), "..", "docs", "config.md")
    with open(path) as f:
        assert f.read() == reference_markdown(), "regenerate docs/config.md from cti.config"
