"""Subcommands of ``cti``: one module each, discovered by :mod:`cti.cli`."""
