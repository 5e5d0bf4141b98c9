"""Each backend declares its persisted state once (``STATE``, services/state.py): the export,
the load, the store, the state check and the byte budget all follow that one declaration."""

from __future__ import annotations

from mockserver import create_app
from mockserver.services import state as declaration
from mockserver.services.budget import stored_size
from mockserver.services.gateway.models import GatewayBackend
from mockserver.services.platform import BACKENDS, Platform
from mockserver.services.state import mapping
from mockserver.surface.persistence import attach_state_file
from mockserver.testkit.state_file import read_store


def test_every_backend_attribute_is_declared_or_derived():
    """A backend keeps two kinds of attribute: declared in STATE (persisted) or named ``_...``
    (derived, rebuilt by rebuild()). Anything else would silently not survive a restart."""
    platform = Platform()
    for attribute, section, _ in BACKENDS:
        backend = getattr(platform, attribute)
        kept = {name for name in vars(backend) if name != "platform" and not name.startswith("_")}
        declared = {f.attr for f in backend.STATE}
        assert kept == declared, section
        assert len({f.key for f in backend.STATE}) == len(backend.STATE), section


def test_a_field_declared_in_one_line_is_exported_loaded_stored_checked_and_charged(tmp_path, monkeypatch):
    monkeypatch.setattr(GatewayBackend, "STATE", GatewayBackend.STATE + (mapping("notes", charge="notes"),))
    monkeypatch.setattr(declaration, "_DECLARED", {})
    path = tmp_path / "state.db"
    app = create_app({"state_file": path})
    saver = attach_state_file(app, interval=3600)
    platform = app.extensions["runagents_mock"].platform
    client = app.test_client()
    saver.store.save()  # the state as it starts
    with platform.lock:
        platform.gateway.notes["model-a"] = "a note"  # starts empty: no __init__ change needed
    exported = client.get("/_mock/state").get_json()
    assert exported["gateway"]["notes"] == {"model-a": "a note"}
    assert saver.store.save() == 1  # the one new entry
    assert saver.stop()
    assert read_store(path)["gateway"]["notes"] == {"model-a": "a note"}

    fresh = create_app()
    client = fresh.test_client()
    assert client.put("/_mock/state", json=exported).status_code == 200
    loaded = fresh.extensions["runagents_mock"].platform
    assert loaded.gateway.notes == {"model-a": "a note"}
    assert loaded.budget.total == stored_size("a note")  # charged as declared (the only charged data)
    exported["gateway"]["notes"] = ["not", "an", "object"]
    answer = client.put("/_mock/state", json=exported)
    assert answer.status_code == 400 and answer.get_json() == {"error": "gateway.notes must be an object"}
