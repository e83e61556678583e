"""Shared foundations every layer may import: clocks, protocol timers, FSM tables,
typed decode errors, pcap files, the hdlc-socket transport and benchmark results.

``core`` imports nothing else from the project.
"""
