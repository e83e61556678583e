"""The DAHDI ABI the backend uses, checked against the real dahdi/user.h by a C probe."""

from __future__ import annotations

import ctypes
import glob
import subprocess
import tarfile

import pytest

from drivers.dahdi import abi
from tests.conftest import need_program


def include_dir(tmp_path) -> str:
    """The directory holding dahdi/user.h: dahdi-dkms's tree, else the dahdi-source tarball."""
    found = sorted(glob.glob("/usr/src/dahdi-*/include/dahdi/user.h"))
    if found:
        return found[-1].rsplit("/dahdi/user.h", 1)[0]
    tarballs = glob.glob("/usr/src/dahdi.tar.*")
    if not tarballs:
        pytest.skip("no dahdi/user.h: install dahdi-dkms or dahdi-source")
    with tarfile.open(tarballs[0]) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.endswith(("include/dahdi/user.h", "include/dahdi/dahdi_config.h"))]
        for m in members:
            m.name = "dahdi/" + m.name.rsplit("/", 1)[1]
            tar.extract(m, tmp_path, filter="data")
    return str(tmp_path)


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict[str, int]:
    gcc = need_program("gcc")
    tmp = tmp_path_factory.mktemp("dahdi_abi")
    inc = include_dir(tmp)
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <dahdi/user.h>",
             "int main(void) {"]

    def emit(key: str, expr: str) -> None:
        lines.append(f'    printf("%s %lld\\n", "{key}", (long long) ({expr}));')

    for name in abi.IOCTLS:
        emit(name, f"(unsigned int) {name}")
    for name in abi.CONSTANTS:
        emit(name, name)
    for struct, cname in abi.C_STRUCTS.items():
        emit(f"sizeof {struct.__name__}", f"sizeof(struct {cname})")
    for (sname, field), _ in abi.OFFSETS.items():
        cname = next(c for s, c in abi.C_STRUCTS.items() if s.__name__ == sname)
        emit(f"offsetof {sname}.{field}", f"offsetof(struct {cname}, {field})")
    lines += ["    return 0;", "}"]
    src = tmp / "probe.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp / "probe"
    subprocess.run([gcc, "-std=gnu99", "-Wall", "-I", inc, str(src), "-o", str(exe)],
                   check=True, capture_output=True, timeout=120)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {k: int(v) for k, v in (line.rsplit(" ", 1) for line in out.splitlines())}


@pytest.mark.parametrize("name", list(abi.IOCTLS))
def test_ioctl_numbers(probe, name):
    assert abi.IOCTLS[name] == probe[name], f"{name}: ours {abi.IOCTLS[name]:#x}"


@pytest.mark.parametrize("name", list(abi.CONSTANTS))
def test_constants(probe, name):
    assert abi.CONSTANTS[name] == probe[name]


@pytest.mark.parametrize("struct", list(abi.C_STRUCTS), ids=lambda s: s.__name__)
def test_struct_sizes(probe, struct):
    assert ctypes.sizeof(struct) == probe[f"sizeof {struct.__name__}"]


@pytest.mark.parametrize("key", list(abi.OFFSETS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_field_offsets(probe, key):
    assert abi.OFFSETS[key] == probe[f"offsetof {key[0]}.{key[1]}"]
