"""The openr2 test peer: build helper and lockstep driver (tests/r2_peer/r2_peer.c)."""
