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

setup(ext_modules=extensions)
