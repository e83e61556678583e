"""libpri peer programs for the ISDN interop tests and benches (built on demand)."""
