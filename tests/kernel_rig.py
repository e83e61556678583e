"""A kernel with two sim E1 spans cabled back to back (``pstn`` and ``cc``), for the
trunk and media tests; ``offered`` collects the calls the cc side is offered."""

from __future__ import annotations

from dataclasses import dataclass, field

from cti.calls import Call
from cti.kernel import Kernel
from cti.media import MediaEngine
from drivers.base import Signalling, SpanConfig
from drivers.sim import cabled_pair


@dataclass
class Rig:
    kernel: Kernel
    media: MediaEngine
    pstn: object
    cc: object
    offered: list[Call] = field(default_factory=list)

    def links_up(self, *trunks, seconds: int = 60) -> None:
        """Run the kernel until every trunk's signalling link is up (at most ``seconds``)."""
        for _ in range(seconds):
            if all(t.link_up for t in trunks):
                return
            self.kernel.run_for(1.0)
        assert all(t.link_up for t in trunks), [t.name for t in trunks if not t.link_up]


def back_to_back(cas: bool = False) -> Rig:
    kernel = Kernel(virtual=True)
    cfg = SpanConfig(signalling=Signalling.CAS if cas else Signalling.CCS)
    a, b = cabled_pair("pstn", "cc", config=cfg)
    kernel.add_ticker(a.system)
    kernel.add_span(a.spans[0])
    kernel.add_span(b.spans[0])
    return Rig(kernel, MediaEngine(kernel), a.spans[0], b.spans[0])


def sim_config(tmp_path, spans: int, trunk: str):
    """A virtual-clock configuration with one sim board ``a`` of ``spans`` spans and the
    ``[[trunk]]`` table ``trunk`` (TOML lines), the API off and the CRM in ``tmp_path``."""
    from cti.config import Config

    path = tmp_path / "kernel.toml"
    path.write_text(f"""
[kernel]
virtual = true
[api]
enabled = false
[[board]]
name = "a"
type = "sim"
spans = {spans}
[[trunk]]
{trunk}
[crm]
path = "{tmp_path / 'crm.db'}"
""")
    return Config.load(str(path))
