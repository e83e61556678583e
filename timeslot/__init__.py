"""The media layer over the C core (csrc/): G.711, the time-slot switch and conferences,
tone generation and detection, HDLC and PRBS, on numpy buffers with the GIL released."""
