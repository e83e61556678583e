"""libspandsp through cffi ABI mode: the peer DSP blocks the benches and interop tests use.

One declaration of the functions called (DTMF and R2 MF receivers and generators, the
supervisory tone receiver, the modem connect tone generator) and one cached loader.
"""

from __future__ import annotations

import ctypes.util
from functools import cache
from typing import Any

CDEF = """
typedef void (*tone_report_func_t)(void *user_data, int code, int level, int delay);
typedef struct dtmf_rx_state_s dtmf_rx_state_t;
typedef void (*digits_rx_callback_t)(void *user_data, const char *digits, int len);
dtmf_rx_state_t *dtmf_rx_init(dtmf_rx_state_t *s, digits_rx_callback_t callback, void *user_data);
int dtmf_rx(dtmf_rx_state_t *s, const int16_t amp[], int samples);
size_t dtmf_rx_get(dtmf_rx_state_t *s, char *digits, int max);
int dtmf_rx_free(dtmf_rx_state_t *s);
typedef struct dtmf_tx_state_s dtmf_tx_state_t;
dtmf_tx_state_t *dtmf_tx_init(dtmf_tx_state_t *s);
int dtmf_tx_put(dtmf_tx_state_t *s, const char *digits, int len);
int dtmf_tx(dtmf_tx_state_t *s, int16_t amp[], int max_samples);
int dtmf_tx_free(dtmf_tx_state_t *s);
typedef struct r2_mf_rx_state_s r2_mf_rx_state_t;
r2_mf_rx_state_t *r2_mf_rx_init(r2_mf_rx_state_t *s, int fwd, tone_report_func_t callback,
                                void *user_data);
int r2_mf_rx(r2_mf_rx_state_t *s, const int16_t amp[], int samples);
int r2_mf_rx_get(r2_mf_rx_state_t *s);
int r2_mf_rx_free(r2_mf_rx_state_t *s);
typedef struct r2_mf_tx_state_s r2_mf_tx_state_t;
r2_mf_tx_state_t *r2_mf_tx_init(r2_mf_tx_state_t *s, int fwd);
int r2_mf_tx_put(r2_mf_tx_state_t *s, char digit);
int r2_mf_tx(r2_mf_tx_state_t *s, int16_t amp[], int samples);
int r2_mf_tx_free(r2_mf_tx_state_t *s);
typedef struct super_tone_rx_descriptor_s super_tone_rx_descriptor_t;
typedef struct super_tone_rx_state_s super_tone_rx_state_t;
super_tone_rx_descriptor_t *super_tone_rx_make_descriptor(super_tone_rx_descriptor_t *desc);
int super_tone_rx_add_tone(super_tone_rx_descriptor_t *desc);
int super_tone_rx_add_element(super_tone_rx_descriptor_t *desc, int tone, int f1, int f2,
                              int min, int max);
super_tone_rx_state_t *super_tone_rx_init(super_tone_rx_state_t *s,
                                          super_tone_rx_descriptor_t *desc,
                                          tone_report_func_t callback, void *user_data);
int super_tone_rx(super_tone_rx_state_t *s, const int16_t amp[], int samples);
int super_tone_rx_free(super_tone_rx_state_t *s);
typedef struct modem_connect_tones_tx_state_s modem_connect_tones_tx_state_t;
modem_connect_tones_tx_state_t *modem_connect_tones_tx_init(modem_connect_tones_tx_state_t *s,
                                                            int tone_type);
int modem_connect_tones_tx(modem_connect_tones_tx_state_t *s, int16_t amp[], int len);
int modem_connect_tones_tx_free(modem_connect_tones_tx_state_t *s);
"""


@cache
def spandsp() -> tuple[Any, Any] | None:
    """(ffi, lib) of libspandsp, or None when cffi or the library is missing."""
    try:
        import cffi
    except ImportError:
        return None
    path = ctypes.util.find_library("spandsp")
    if path is None:
        return None
    ffi = cffi.FFI()
    ffi.cdef(CDEF)
    return ffi, ffi.dlopen(path)
