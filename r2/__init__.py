"""China No.1 / MFC-R2: CAS line signalling (Q.421/Q.422) and register signalling (Q.441)."""
