"""Trunk adapters: each signalling stack behind the unified call model (:mod:`cti.calls`).

An adapter owns one stack instance on one span (or an external transport), maps the
stack's indications to :class:`cti.calls.CallEvent` notifications and carries out the
call operations in its own signalling.  Incoming calls go to ``on_offered(call)``.
"""
