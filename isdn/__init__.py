"""ISDN PRI: Q.921 (LAPD) and Q.931 call control, network and user side."""
