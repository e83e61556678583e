"""SS7: MTP2 (Q.703), MTP3 (Q.704), ISUP (Q.763/Q.764, ITU and China) and China TUP."""
