"""Dialogic R4-style API (dxxxlib, dtilib, msilib, srllib) over any board the kernel runs.

``from drivers.dialogic import *`` gives what ``#include <srllib.h> <dxxxlib.h>
<dtilib.h> <msilib.h>`` gives a C program: the constants, the structures (DX_IOTT,
DV_TPT, DV_DIGIT, DX_XPB, SC_TSINFO, DX_CST) and the functions.  See docs/dialogic.md.
"""

from drivers.dialogic.api import *  # noqa: F403
from drivers.dialogic.api import __all__ as _api_all
from drivers.dialogic.constants import *  # noqa: F403
from drivers.dialogic.constants import __all__ as _const_all
from drivers.dialogic.runtime import Runtime
from drivers.dialogic.tables import (
           DV_DIGIT,
           DV_TPT,
           DX_CST,
           DX_IOTT,
           DX_XPB,
           SC_TSINFO,
           DialogicError,
)

__all__ = [*_api_all, *_const_all, "DV_DIGIT", "DV_TPT", "DX_CST", "DX_IOTT", "DX_XPB",
           "DialogicError", "Runtime", "SC_TSINFO"]
