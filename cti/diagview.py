"""The ``span`` view of the control API: one span's alarms, counters, line configuration,
pseudowire packet counters and the trunks it carries (``cti diag --api`` reads it)."""

from __future__ import annotations

from typing import Any

from cti.api import ApiError


def span_view(spans: dict[str, Any], trunks: dict[str, Any], name: str) -> dict[str, Any]:
    span = spans.get(name) if isinstance(name, str) else None
    if span is None:
        raise ApiError("not_found", f"no span {name!r} (spans: {', '.join(spans) or 'none'})")
    cfg = span.config
    out: dict[str, Any] = {
        "span": name, **span.status().as_dict(),
        "config": {"framing": cfg.framing.value, "signalling": cfg.signalling.value,
                   "line_code": cfg.line_code.value, "clock": cfg.clock},
        "trunks": [{"name": n, "type": t.kind, "calls": len(t.calls), "counters": dict(t.counters)}
                   for n, t in trunks.items() if t.span is span],
    }
    pw = getattr(span, "counters", None)
    if pw is not None and hasattr(pw, "as_dict"):  # a pseudowire: its packet counters
        out["pseudowire"] = pw.as_dict()
    return out
