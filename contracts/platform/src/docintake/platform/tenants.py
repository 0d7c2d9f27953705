"""Who a request comes from: API keys, each of a tenant, kept hashed in a file the services re-read when it changes.

The file (DOCINTAKE_TENANTS_FILE) is JSON:

    {"tenants": {
        "acme": {"keys": {"2026-12": "sha256:<hex of the key's SHA-256>", "2027-01": "sha256:..."},
                 "requests_per_second": 20, "upload_bytes_per_day": 10737418240,
                 "webhook_secret": "...", "webhooks": [{"url": "https://hooks.acme.example/docintake",
                                                        "documents": false}]},
        "operations": {"keys": {"ops-1": "sha256:..."}, "admin": true}}}

A tenant has several keys so that one can be replaced while the other still works; a key is named by
its id in logs and audit, never by itself. An admin tenant sees every tenant's batches. Without the
file, the keys of DOCINTAKE_API_KEYS belong to the tenant `default`. `python -m docintake.platform.tenants
hash KEY` prints the form a key is kept in.
"""

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docintake.contracts.events import DEFAULT_TENANT
from docintake.platform.logging import get_logger

log = get_logger(__name__)
HASHED = "sha256:"
# How often a service looks whether the file changed.
RELOAD_SECONDS = 1.0


def hashed(key: str) -> str:
    return HASHED + hashlib.sha256(key.encode()).hexdigest()


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    # Whether each document's outcome is delivered too, besides the batch's completion.
    documents: bool = False


class Tenant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    keys: dict[str, str] = Field(description="Key id → the key hashed ('sha256:<hex>')")
    admin: bool = False
    requests_per_second: float | None = None
    upload_bytes_per_day: int | None = None
    webhook_secret: str | None = None
    webhooks: list[Webhook] = []


class TenantsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenants: dict[str, Tenant]


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: its tenant and the id of the key it gave."""

    tenant: str
    key_id: str
    admin: bool = False

    def sees(self, tenant: str) -> bool:
        return self.admin or tenant == self.tenant


# Whoever calls a service function that is not given a caller: the default tenant (tests, tools).
ANONYMOUS = Principal(DEFAULT_TENANT, "")


class KeyRing:
    """The keys and tenants in force; the file is read again, at most once a second, when it changed.
    A file that does not read (a half-written edit) leaves the keys as they were, and says so."""

    def __init__(self, path: Path | None, plain_keys: Sequence[str] = (), reload_seconds: float = RELOAD_SECONDS):
        self.path = path
        self.reload_seconds = reload_seconds
        self._tenants: dict[str, Tenant] = {}
        self._by_hash: dict[str, Principal] = {}
        self._seen: tuple[float, int] | None = None
        self._checked_at = -float("inf")
        if path is None:
            legacy = Tenant(keys={f"key-{n}": hashed(key) for n, key in enumerate(plain_keys, start=1)})
            self._take(TenantsFile(tenants={DEFAULT_TENANT: legacy}))
        else:
            self._reload_if_changed(force=True)

    @classmethod
    def from_settings(cls, tenants_file: str, api_keys: list[str]) -> "KeyRing":
        return cls(Path(tenants_file) if tenants_file else None, api_keys)

    def identify(self, key: str | None) -> Principal | None:
        """The principal of a key in force; None for a missing or unknown key."""
        if not key:
            return None
        self._reload_if_changed()
        # Looked up by its digest: how long that takes tells nothing of how much of a key matched.
        return self._by_hash.get(hashed(key))

    def tenant(self, name: str) -> Tenant | None:
        self._reload_if_changed()
        return self._tenants.get(name)

    def _reload_if_changed(self, force: bool = False) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked_at < self.reload_seconds:
            return
        self._checked_at = now
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime, stat.st_size)
            if seen == self._seen and not force:
                return
            loaded = TenantsFile.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError, ValueError) as exc:
            log.error("tenants file not read; the keys in force stay", path=str(self.path), error=str(exc)[:500])
            return
        self._seen = seen
        self._take(loaded)
        log.info("tenants file read", path=str(self.path), tenants=len(loaded.tenants),
                 keys=sum(len(tenant.keys) for tenant in loaded.tenants.values()))

    def _take(self, loaded: TenantsFile) -> None:
        self._tenants = dict(loaded.tenants)
        self._by_hash = {
            digest.lower(): Principal(name, key_id, tenant.admin)
            for name, tenant in loaded.tenants.items() for key_id, digest in tenant.keys.items()
        }


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "hash":
        print(hashed(argv[1]))
        return 0
    if argv == ["new-key"]:
        key = os.urandom(24).hex()
        print(f"key:    {key}\nkept as: {hashed(key)}")
        return 0
    print("usage: python -m docintake.platform.tenants hash KEY | new-key", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
