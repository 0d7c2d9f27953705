"""API keys of tenants, kept hashed in a file that is re-read when it changes."""

import json
import os

from docintake.platform.tenants import KeyRing, Principal, hashed


def write(path, tenants: dict) -> None:
    path.write_text(json.dumps({"tenants": tenants}))
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 1))  # a change the next look sees, however fast it came


def test_a_key_names_its_tenant_and_key_id_and_an_unknown_or_missing_key_names_none(tmp_path):
    path = tmp_path / "tenants.json"
    write(path, {"acme": {"keys": {"k1": hashed("acme-one"), "k2": hashed("acme-two")}},
                 "ops": {"keys": {"root": hashed("ops-key")}, "admin": True}})
    ring = KeyRing(path)
    assert ring.identify("acme-two") == Principal("acme", "k2", admin=False)
    assert ring.identify("ops-key") == Principal("ops", "root", admin=True)
    assert ring.identify("acme-three") is None and ring.identify("") is None and ring.identify(None) is None
    assert "acme-one" not in path.read_text()


def test_a_key_taken_out_of_the_file_stops_working_at_the_next_look_and_its_twin_keeps_working(tmp_path):
    path = tmp_path / "tenants.json"
    write(path, {"acme": {"keys": {"old": hashed("old-key"), "new": hashed("new-key")}}})
    ring = KeyRing(path, reload_seconds=0)
    assert ring.identify("old-key") is not None
    write(path, {"acme": {"keys": {"new": hashed("new-key")}}})
    assert ring.identify("old-key") is None
    assert ring.identify("new-key") == Principal("acme", "new")


def test_a_file_that_does_not_read_leaves_the_keys_in_force(tmp_path):
    path = tmp_path / "tenants.json"
    write(path, {"acme": {"keys": {"k1": hashed("acme-one")}}})
    ring = KeyRing(path, reload_seconds=0)
    path.write_text('{"tenants": {"acme": ')  # an edit half written
    assert ring.identify("acme-one") == Principal("acme", "k1")


def test_without_a_file_the_plain_keys_are_the_default_tenants():
    ring = KeyRing(None, ["dev-key", "other"])
    assert ring.identify("other") == Principal("default", "key-2")
    assert ring.identify("nope") is None


def test_an_admin_sees_every_tenant_and_a_tenant_only_its_own():
    assert Principal("ops", "root", admin=True).sees("acme")
    assert Principal("acme", "k1").sees("acme") and not Principal("acme", "k1").sees("globex")
