"""csrc/ is plain C99 without Python: every file compiles alone with -std=c99 -pedantic,
warning-free, and includes no Python header."""

from __future__ import annotations

import glob
import os
import re
import subprocess

import pytest

from tests.conftest import need_program

CSRC = os.path.join(os.path.dirname(__file__), "..", "csrc")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CSRC, "*.c"))),
                         ids=os.path.basename)
def test_plain_c99(path, tmp_path):
    gcc = need_program("gcc")
    r = subprocess.run([gcc, "-std=c99", "-pedantic", "-Wall", "-Wextra", "-Werror", "-c", path,
                        "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(CSRC, "*.[ch]"))),
                         ids=os.path.basename)
def test_no_python_header(path):
    with open(path) as f:
        assert not re.search(r"#\s*include\s*[<\"]Python\.h", f.read())
