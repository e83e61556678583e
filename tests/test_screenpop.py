"""Screen pop and the CRM store: the SQLite contacts and call history (cti.crm), the
CSV records kept beside it, and the ``calls.screen_pop`` event with the caller's CRM
record, through a real WebSocket client against a runtime on the virtual clock."""

from __future__ import annotations

import asyncio
import csv
import sqlite3

import pytest
from desk_rig import CALLER, EXAMPLE, dial, error_code, event, only, run_with_client, runtime
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import ConfigError
from cti.calls import Call
from cti.cdr import CdrWriter
from cti.config import Config
from cti.crm import CONTACT_FIELDS, CrmError, CrmStore
from cti.desktop import call_vars
from cti.runtime import Runtime


@pytest.fixture
def store(tmp_path):
    s = CrmStore(str(tmp_path / "crm.db"))
    yield s
    s.close()


def test_contacts_and_history(store, tmp_path):
    assert store.lookup("0755123") == {
        "number": "0755123", "contact": None,
        "history": {"calls": 0, "last_call_at": None, "last_agent": None, "last_outcome": None}}
    store.update("0755123", {"name": "Ada Lovelace", "account": "A-17"})
    store.update("0755123", {"notes": "prefers mornings", "account": None})
    c = store.contact("0755123")
    assert (c["name"], c["account"], c["notes"]) == ("Ada Lovelace", None, "prefers mornings")
    cdr = CdrWriter(str(tmp_path / "calls.csv"), store=store)
    cdr.write({"id": 1, "trunk": "isdn", "ani": "0755123", "outcome": "answered", "agent": "bob"})
    cdr.write({"id": 2, "trunk": "ss7", "ani": "0755123", "outcome": "abandoned"})
    cdr.write({"id": 3, "trunk": "r2", "ani": "0999", "outcome": "answered", "agent": "eve"})
    cdr.close()
    h = store.history("0755123")
    assert (h["calls"], h["last_agent"], h["last_outcome"]) == (2, "bob", "abandoned")
    assert h["last_call_at"].endswith("Z")
    with open(tmp_path / "calls.csv") as f:
        assert [r["id"] for r in csv.DictReader(f)] == ["1", "2", "3"]  # the CSV is kept
    # committed rows are visible to another connection (WAL, synchronous=FULL)
    other = sqlite3.connect(store.path)
    assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert other.execute("SELECT count(*) FROM calls").fetchone() == (3,)
    other.close()


@pytest.mark.parametrize("number, fields", [
    ("", {"name": "x"}), ("12ab!", {"name": "x"}), (5, {"name": "x"}), ("1" * 40, {"name": "x"}),
    ("123", {}), ("123", {"phone": "x"}), ("123", {"name": 5}), ("123", "name"),
    ("123", {"notes": "x" * 5000}),
])
def test_bad_updates_are_typed_errors(store, number, fields):
    with pytest.raises(CrmError):
        store.update(number, fields)


@settings(max_examples=60, deadline=None)
@given(number=st.from_regex(r"\A\+?[0-9]{1,20}\Z"),
       fields=st.dictionaries(st.sampled_from(CONTACT_FIELDS),
                              st.none() | st.text(max_size=50), min_size=1))
def test_update_lookup_round_trip(tmp_path_factory, number, fields):
    s = CrmStore(str(tmp_path_factory.mktemp("crm") / "crm.db"))
    try:
        rec = s.update(number, fields)
        assert rec["number"] == number
        assert {k: rec["contact"][k] for k in fields} == fields
    finally:
        s.close()


@settings(max_examples=100, deadline=None)
@given(number=st.none() | st.integers() | st.text(max_size=40),
       fields=st.none() | st.text() | st.dictionaries(st.text(max_size=10),
                                                       st.none() | st.integers() | st.text()))
def test_arbitrary_input_is_a_crm_error_or_stored(store, number, fields):
    try:
        store.update(number, fields)
    except CrmError:
        return
    assert store.lookup(number)["contact"] is not None


@pytest.fixture
def rt(tmp_path):
    rt = runtime(tmp_path)
    yield rt
    rt.close()


def test_screen_pop_carries_the_crm_record_and_history(rt, tmp_path):
    async def one_call(c, dnis: str) -> dict:
        await c.call("call.dial", trunk="pstn-pri", dnis=dnis, ani=CALLER)
        offered = await event(c, "agents.offered", agent="alice")
        pop = await event(c, "calls.screen_pop", call=offered["call"])
        await c.call("call.answer", agent="alice", call=offered["call"])
        await event(c, "agents.state", name="alice", state="talking")
        await asyncio.sleep(2.0)
        await c.call("call.drop", call=offered["call"], agent="alice")
        for _ in range(100):  # the record is written once the caller's call is released
            if (await c.call("crm.lookup", number=CALLER))["history"]["calls"] == int(dnis[-1]):
                break
            await asyncio.sleep(0.1)
        await event(c, "agents.state", name="alice", state="ready")
        return pop

    async def scenario(c):
        await only(c, "alice")
        await c.call("agent.mode", name="alice", mode="desktop")
        rec = await c.call("crm.update", number=CALLER,
                           fields={"name": "Ada Lovelace", "account": "A-17"})
        assert rec["contact"]["name"] == "Ada Lovelace"
        errors = {
            "bad number": await error_code(c, "crm.lookup", number="12ab!"),
            "bad field": await error_code(c, "crm.update", number=CALLER, fields={"x": "1"}),
            "not an object": await error_code(c, "crm.update", number=CALLER, fields=[1]),
        }
        first = await one_call(c, "5001")
        second = await one_call(c, "5002")
        return errors, first, second

    errors, first, second = run_with_client(rt, scenario)
    assert errors == {"bad number": "bad_params", "bad field": "bad_params",
                      "not an object": "bad_params"}
    for pop, dnis in ((first, "5001"), (second, "5002")):
        assert (pop["agent"], pop["ani"], pop["dnis"], pop["queue"], pop["trunk"]) == (
            "alice", CALLER, dnis, "sales", "isdn")
        assert pop["data"]["queue"] == "sales" and pop["wait_s"] >= 0
        assert pop["crm"]["contact"]["name"] == "Ada Lovelace"
        assert pop["crm"]["contact"]["account"] == "A-17"
    assert first["crm"]["history"] == {"calls": 0, "last_call_at": None, "last_agent": None,
                                       "last_outcome": None}
    h = second["crm"]["history"]
    assert (h["calls"], h["last_agent"], h["last_outcome"]) == (1, "alice", "answered")
    with open(tmp_path / "calls.csv") as f:
        rows = [r for r in csv.DictReader(f) if r["direction"] == "in"]
    assert [(r["ani"], r["agent"]) for r in rows] == [(CALLER, "alice")] * 2


@pytest.mark.parametrize("trunk, kind", [("pstn-pri", "isdn"), ("pstn-isup", "ss7"),
                                         ("pstn-r2", "r2")])
def test_screen_pop_for_an_auto_answer_agent(rt, trunk, kind):
    rt.stations.board.handsets[0].answer_after = 1  # the phone answers on the first ring

    async def scenario(c):
        await only(c, "alice")
        await dial(c, trunk, "5000", "0399")
        pop = await event(c, "calls.screen_pop", agent="alice")
        talking = await event(c, "agents.state", name="alice", state="talking")
        return pop, talking

    pop, talking = run_with_client(rt, scenario)
    assert pop["mode"] == "auto" and pop["ani"] == "0399" and pop["crm"]["contact"] is None
    assert (pop["trunk"], pop["dnis"]) == (kind, "5000")
    assert talking["call"] == pop["call"]


def test_screen_pop_variables_are_the_calls_json_data(rt):
    partner = Call(trunk=rt.stations, direction="out", dnis="1")
    call = Call(trunk=rt.stations, direction="in", ani=CALLER)
    call.data.update({"queue": "sales", "ivr": {"account": "1234", "choice": "2"},
                      "ivr_trail": ["demo.greeting", "demo.menu"], "answered_at": 3.5,
                      "bridged": partner, "held_from": {"call": partner}})
    assert call_vars(call) == {"queue": "sales", "ivr": {"account": "1234", "choice": "2"},
                               "ivr_trail": ["demo.greeting", "demo.menu"], "answered_at": 3.5}
    call.data["ivr_trail"] = [f"menu.{i}" for i in range(130)]  # a caller looping in a menu
    popped = call_vars(call)
    assert popped["ivr_trail"] == [f"menu.{i}" for i in range(80, 130)]
    assert popped["ivr_trail_dropped"] == 80 and len(call.data["ivr_trail"]) == 130


def test_a_crm_path_that_is_not_a_database_is_a_config_error(tmp_path):
    old = tmp_path / "calls.csv"
    old.write_text("id,trunk\n1,isdn\n")  # an old config's CSV call records at crm.path
    cfg = Config.load(EXAMPLE)
    cfg.data["crm"]["path"] = str(old)
    with pytest.raises(ConfigError) as e:
        Runtime(cfg, virtual=True)
    assert e.value.key == "crm.path" and "not a database" in str(e.value)
