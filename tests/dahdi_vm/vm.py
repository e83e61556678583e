#!/usr/bin/env python3
"""Run a command inside a QEMU VM where the real DAHDI driver serves two looped E1 spans.

    python3 tests/dahdi_vm/vm.py [--timeout S] [--cache DIR] -- COMMAND [ARGS...]

On a Debian 12 host, as root: installs what is missing (qemu-system-x86, Debian's 6.1
kernel image and headers, dahdi-source, dahdi tools), builds dahdi.ko,
dahdi_dynamic.ko and dahdi_dynamic_loc.ko against the kernel headers, extracts the
uncompressed vmlinux (booted through QEMU's PVH entry, faster than the bzImage under
emulation) and packs a one-file initramfs (a static init, tests/dahdi_vm/init.c, plus the
virtio/9p modules).  Everything built is cached outside the repository (default
~/.cache/ctikernel-dahdi-vm).  The guest shares the host's root file system read-only
over 9p, with the project mounted read-write at its own path, so the host's Python and
the project's build run unchanged inside; guest.sh loads DAHDI and configures the spans.

QEMU runs with software emulation (TCG): /dev/kvm here is a paravirtual KVM that the
stock Debian kernel hangs on.

Exit status: the command's; 124 on timeout; 125 when the VM or DAHDI could not be set
up (the guest console is printed then).
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import lzma
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(os.path.dirname(HERE))
EXIT_TIMEOUT = 124
EXIT_SETUP = 125
# module load order for the 9p root (Debian 6.1 builds these as modules)
BOOT_MODULES = [
    "kernel/drivers/virtio/virtio_ring.ko",
    "kernel/drivers/virtio/virtio.ko",
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko",
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko",
    "kernel/drivers/virtio/virtio_pci.ko",
    "kernel/net/9p/9pnet.ko",
    "kernel/net/9p/9pnet_virtio.ko",
    "kernel/fs/netfs/netfs.ko",
    "kernel/fs/fscache/fscache.ko",
    "kernel/fs/9p/9p.ko",
]
DAHDI_MODULES = ("dahdi.ko", "dahdi_dynamic.ko", "dahdi_dynamic_loc.ko")


class SetupError(Exception):
    pass


def log(msg: str) -> None:
    print(f"[dahdi-vm] {msg}", file=sys.stderr, flush=True)


def sh(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, **kw)


def ensure_packages() -> None:
    need = {"qemu-system-x86_64": "qemu-system-x86", "dahdi_cfg": "dahdi"}
    pkgs = [p for exe, p in need.items() if shutil.which(exe) is None]
    if not glob.glob("/boot/vmlinuz-6.1.*-amd64"):
        pkgs.append("linux-image-amd64")
    if not glob.glob("/usr/src/linux-headers-6.1.*-amd64"):
        pkgs.append("linux-headers-amd64")
    if not os.path.exists("/usr/src/dahdi.tar.bz2"):
        pkgs.append("dahdi-source")
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libc.a"):
        pkgs.append("libc6-dev")
    if shutil.which("make") is None:
        pkgs.append("make")
    if not pkgs:
        return
    if os.geteuid() != 0:
        raise SetupError(f"missing packages {' '.join(pkgs)} and not root to install them")
    log(f"installing {' '.join(pkgs)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    sh(["apt-get", "update", "-qq"], env=env)
    # dahdi-source first so that dahdi-linux does not pull dahdi-dkms
    sh(["apt-get", "install", "-y", "-q", "--no-install-recommends", "dahdi-source", *pkgs],
       env=env, stdout=subprocess.DEVNULL)


def kernel_version() -> str:
    versions = []
    for img in glob.glob("/boot/vmlinuz-6.1.*-amd64"):
        v = img.split("vmlinuz-", 1)[1]
        if os.path.isdir(f"/usr/src/linux-headers-{v}") and os.path.isdir(f"/lib/modules/{v}"):
            versions.append(v)
    if not versions:
        raise SetupError("no Debian 6.1 kernel with matching headers and modules in /boot")
    return max(versions, key=lambda v: [int(x) for x in re.findall(r"\d+", v)])


def build_modules(kver: str, cache: str) -> str:
    out = os.path.join(cache, "modules")
    if all(os.path.exists(os.path.join(out, m)) for m in DAHDI_MODULES):
        return out
    src = os.path.join(cache, "src")
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    log("building the DAHDI modules")
    with tarfile.open("/usr/src/dahdi.tar.bz2") as tar:
        tar.extractall(src)
    top = glob.glob(os.path.join(src, "**", "drivers", "dahdi", "dahdi-base.c"), recursive=True)
    if not top:
        raise SetupError("dahdi-base.c not found in dahdi-source")
    drivers = os.path.dirname(top[0])
    include = os.path.join(os.path.dirname(os.path.dirname(drivers)), "include")
    r = subprocess.run(
        ["make", "-C", f"/usr/src/linux-headers-{kver}", f"M={drivers}",
         f"DAHDI_INCLUDE={include}", "CONFIG_DAHDI=m", "CONFIG_DAHDI_DYNAMIC=m",
         "CONFIG_DAHDI_DYNAMIC_LOC=m", f"-j{os.cpu_count() or 1}", "modules"],
        capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError("building DAHDI failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])
    os.makedirs(out, exist_ok=True)
    for m in DAHDI_MODULES:
        shutil.copy(os.path.join(drivers, m), out)
    return out


def extract_vmlinux(kver: str, cache: str) -> str:
    out = os.path.join(cache, "vmlinux")
    if os.path.exists(out):
        return out
    data = open(f"/boot/vmlinuz-{kver}", "rb").read()
    for m in re.finditer(re.escape(b"\xfd7zXZ\x00"), data):
        try:
            elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[m.start():])
        except lzma.LZMAError:
            continue
        if elf[:4] == b"\x7fELF":
            with open(out + ".tmp", "wb") as f:
                f.write(elf)
            os.replace(out + ".tmp", out)
            return out
    raise SetupError(f"/boot/vmlinuz-{kver}: no XZ-compressed ELF kernel inside")


def _cpio_entry(name: str, mode: int, data: bytes, ino: int) -> bytes:
    nb = name.encode() + b"\0"
    hdr = "070701" + "".join(f"{v:08X}" for v in (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
    out = hdr.encode() + nb
    out += b"\0" * (-len(out) % 4) + data
    return out + b"\0" * (-len(out) % 4)


def build_initramfs(kver: str, cache: str) -> str:
    # named for what goes in, so a changed init.c or module list builds a new one
    with open(os.path.join(HERE, "init.c"), "rb") as f:
        digest = hashlib.sha1(f.read() + "\n".join(BOOT_MODULES).encode()).hexdigest()[:12]
    out = os.path.join(cache, f"initramfs-{digest}.cpio")
    if os.path.exists(out):
        return out
    init = os.path.join(cache, "init")
    r = subprocess.run(["gcc", "-static", "-O2", "-o", init, os.path.join(HERE, "init.c")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SetupError("compiling init.c failed: " + r.stderr)
    entries = [("proc", 0o40755, b""), ("sys", 0o40755, b""), ("dev", 0o40755, b""),
               ("m", 0o40755, b""), ("init", 0o100755, open(init, "rb").read())]
    names = []
    for rel in BOOT_MODULES:
        path = f"/lib/modules/{kver}/{rel}"
        if not os.path.exists(path):
            raise SetupError(f"{path} missing")
        names.append("/m/" + os.path.basename(rel))
        entries.append((names[-1][1:], 0o100644, open(path, "rb").read()))
    entries.append(("modules.list", 0o100644, ("\n".join(names) + "\n").encode()))
    blob = b"".join(_cpio_entry(n, m, d, i + 1) for i, (n, m, d) in enumerate(entries))
    blob += _cpio_entry("TRAILER!!!", 0, b"", 0)
    with open(out + ".tmp", "wb") as f:
        f.write(blob)
    os.replace(out + ".tmp", out)
    return out


def prepare(cache: str) -> tuple[str, str]:
    ensure_packages()
    kver = kernel_version()
    kcache = os.path.join(cache, kver)
    os.makedirs(kcache, exist_ok=True)
    build_modules(kver, kcache)
    return extract_vmlinux(kver, kcache), build_initramfs(kver, kcache)


def run_vm(cache: str, command: list[str], timeout: float) -> int:
    vmlinux, initrd = prepare(cache)
    kcache = os.path.dirname(vmlinux)
    # one command file per run: concurrent runs share the cache
    cmd_file = os.path.join(kcache, f"cmd-{os.getpid()}.sh")
    with open(cmd_file, "w") as f:
        # the host's Python (with the project's dependencies) comes first on PATH
        pybin = shlex.quote(os.path.dirname(sys.executable))
        f.write(f"cd {shlex.quote(PROJECT)} || exit 125\nexport PYTHONDONTWRITEBYTECODE=1\n"
                f"export PATH={pybin}:$PATH\nexec {shlex.join(command)}\n")
    append = (f"console=ttyS0 quiet loglevel=3 panic=-1 cti_project={PROJECT} "
              f"cti_guest={os.path.join(HERE, 'guest.sh')} cti_cache={kcache} cti_cmd={cmd_file}")
    qemu = ["qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "1024",
            "-smp", "1", "-display", "none", "-serial", "stdio", "-monitor", "none",
            "-no-reboot", "-kernel", vmlinux, "-initrd", initrd, "-append", append,
            "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs", f"local,path={PROJECT},mount_tag=project,security_model=none"]
    try:
        return _boot(qemu, timeout)
    finally:
        os.unlink(cmd_file)


def _boot(qemu: list[str], timeout: float) -> int:
    log("booting the VM")
    t0 = time.monotonic()
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    console: list[str] = []
    status: int | None = None
    setup_failed = False
    ready = False
    os.set_blocking(proc.stdout.fileno(), False)
    buf = b""
    while True:
        chunk = proc.stdout.read()
        if chunk:
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                console.append(line)
                if m := re.match(r"CTI_VM_EXIT=(\d+)", line):
                    status = int(m.group(1))
                elif line.startswith("CTI_VM_SETUP_FAILED"):
                    setup_failed = True
                elif line == "CTI_VM_DAHDI_READY":
                    ready = True
                    log(f"DAHDI ready after {time.monotonic() - t0:.1f} s")
                elif ready:
                    print(line, flush=True)
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
        if time.monotonic() - t0 > timeout:
            proc.kill()
            proc.wait()
            print("\n".join(console[-200:]), file=sys.stderr)
            log(f"timeout after {timeout:.0f} s")
            return EXIT_TIMEOUT
    if setup_failed or status is None or (status == EXIT_SETUP and not ready):
        print("\n".join(console[-200:]), file=sys.stderr)
        log("VM or DAHDI setup failed")
        return EXIT_SETUP
    log(f"command exited {status} after {time.monotonic() - t0:.1f} s")
    return status


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--cache", default=os.path.expanduser("~/.cache/ctikernel-dahdi-vm"))
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        p.error("no command given")
    try:
        return run_vm(args.cache, cmd, args.timeout)
    except (SetupError, subprocess.CalledProcessError, OSError) as e:
        log(f"setup failed: {e}")
        return EXIT_SETUP


if __name__ == "__main__":
    sys.exit(main())
