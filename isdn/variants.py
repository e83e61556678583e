"""ISDN switch variants as data: mandatory elements, cause locations, channel plan, timers.

``VARIANTS[name]`` is selected by name (config ``switchtype``); the procedures read
these tables and never branch on the variant's name.  Mandatory elements follow the
message tables of Q.931 clause 3 (ETSI EN 300 403-1 keeps them); entries of
``mandatory_n2u`` apply only to messages from the network to the user.  ``ie_forms``
names the elements a variant encodes in a national form (:data:`isdn.ie.FORMS`), read
in that form before the error procedures of Q.931 5.8 judge them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isdn import ie as ies
from isdn.bchannels import BRI_CHANNELS, E1_CHANNELS, T1_CHANNELS
from isdn.q931_codec import Message

_Q931_MANDATORY = {
    "SETUP": ("bearer_capability",),
    "DISCONNECT": ("cause",),
    "PROGRESS": ("progress",),
    "NOTIFY": ("notification",),
    "STATUS": ("cause", "call_state"),
    "RESTART": ("restart_indicator",),
    "RESTART ACKNOWLEDGE": ("restart_indicator",),
    "SUSPEND REJECT": ("cause",),
    "RESUME REJECT": ("cause",),
    "RESUME ACKNOWLEDGE": ("channel_id",),
}


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    mandatory: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_Q931_MANDATORY))
    mandatory_n2u: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {"SETUP": ("channel_id",)})
    channels: tuple[int, ...] = E1_CHANNELS
    pri: bool = True  # primary rate interface (channel numbers) or basic access (B1/B2)
    layer1: int = 3  # bearer capability user information layer 1: 3 = G.711 A-law, 2 = mu-law
    cause_location: dict[str, int] = field(default_factory=lambda: {"user": 0, "network": 2})
    timers: dict[str, float] = field(default_factory=dict)
    ie_forms: dict[str, str] = field(default_factory=dict)  # element name -> national form
    names: str | None = None  # name identification service (isdn.facility.NAME_SERVICES)
    # protocol discriminator of the B-channel maintenance messages (isdn.service), if any
    maintenance_pd: int | None = None

    def read(self, msg: Message) -> Message:
        """``msg`` with the elements of a national form re-read in that form."""
        if self.ie_forms and any(e.name in self.ie_forms for e in msg.ies):
            msg.ies = [ies.decode_form(self.ie_forms[e.name], e) if e.name in self.ie_forms
                       else e for e in msg.ies]
        return msg

    def mandatory_for(self, message: str, from_network: bool) -> tuple[str, ...]:
        extra = self.mandatory_n2u.get(message, ()) if from_network else ()
        return self.mandatory.get(message, ()) + extra


VARIANTS: dict[str, Variant] = {
    v.name: v for v in (
        Variant("etsi", "EuroISDN (ETSI EN 300 403-1) on E1 30B+D; also used in China"),
        Variant("etsi_bri", "EuroISDN basic access 2B+D (B1, B2)", channels=BRI_CHANNELS,
                pri=False),
        Variant("ni2", "National ISDN-2 (Telcordia) on T1 23B+D, mu-law",
                channels=T1_CHANNELS, layer1=2, ie_forms={"display": "display_typed"},
                names="ni2", maintenance_pd=0x43),
        Variant("qsig", "QSIG basic call (ECMA-143) on E1: symmetric, channel always given",
                mandatory={**_Q931_MANDATORY, "SETUP": ("bearer_capability", "channel_id")},
                mandatory_n2u={}, cause_location={"user": 1, "network": 1}, names="qsig"),
    )
}
