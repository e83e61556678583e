"""Build the C media core (csrc/) into the Cython extension modules.

Every ``.pyx`` file under the Python packages becomes one extension module.  Each
``.pyx`` names the C sources it needs in its header, e.g.::

    # distutils: sources = csrc/g711.c

so adding a block is adding files, never editing this script.
"""

from __future__ import annotations

import os
from glob import glob

import numpy
from Cython.Build import cythonize
from setuptools import setup
from setuptools.command.build_ext import build_ext

PACKAGES = ("core", "timeslot", "drivers", "isdn", "ss7", "r2", "cti")

pyx = sorted(p for pkg in PACKAGES for p in glob(os.path.join(pkg, "**", "*.pyx"), recursive=True))
# `make build` compiles in place with `build_ext --inplace` (incremental, parallel) and
# installs the editable package with CTI_SKIP_EXT=1 so pip does not compile it all again.
if os.environ.get("CTI_SKIP_EXT"):
    pyx = []

extensions = (
    cythonize(
        pyx,
        compiler_directives={
            "language_level": "3",
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": False,
        },
        nthreads=os.cpu_count() or 1,
        quiet=True,
    )
    if pyx
    else []
)
headers = sorted(glob(os.path.join("csrc", "*.h")))
for ext in extensions:
    ext.depends += headers  # a changed header rebuilds every module (struct layouts)
    ext.include_dirs += [numpy.get_include(), "csrc"]
    ext.extra_compile_args += ["-O3", "-fno-math-errno", "-Wno-unused-function"]
    ext.define_macros += [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]



class BuildExt(build_ext):
    """Compile each C file of csrc/ once, then link the extensions with those objects.
    Several extensions name the same file (csrc/g711.c, csrc/ring.c); compiled per
    extension under ``build_ext -j`` they wrote the same object file at the same time, and
    an extension could link a half-written one (an undefined symbol at import)."""

    def build_extensions(self) -> None:
        shared = sorted({s for e in self.extensions for s in e.sources if s.startswith("csrc")})
        if shared:
            objects = self.compiler.compile(
                shared, output_dir=self.build_temp, include_dirs=["csrc"], depends=headers,
                extra_postargs=["-O3", "-fno-math-errno", "-fPIC"])
            built = dict(zip(shared, objects, strict=True))
            for e in self.extensions:
                mine = [s for s in e.sources if s in built]
                e.extra_objects = [*e.extra_objects, *(built[s] for s in mine)]
                e.depends = [*e.depends, *mine]  # a changed C file relinks the extension
                e.sources = [s for s in e.sources if s not in built]
        super().build_extensions()


setup(ext_modules=extensions, cmdclass={"build_ext": BuildExt})
