"""Board backends behind one Board/Span/Channel model (see :mod:`drivers.base`)."""
