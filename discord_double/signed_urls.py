"""Signed attachment URLs as Discord's CDN issues them: ``?ex=<hex expiry>&is=<hex issued>&hm=<hmac>&``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from discord_double.state import DoubleClock

SIGNED_URL_TTL_S = 24 * 3600


@dataclass
class UrlSigner:
    """Signs CDN paths for ``ttl_s`` seconds on ``clock`` and checks what comes back."""

    clock: DoubleClock
    ttl_s: int = SIGNED_URL_TTL_S
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def query(self, path: str) -> str:
        """The query string (with its ``?`` and Discord's trailing ``&``) that signs ``path`` from now."""
        issued = int(self.clock.time())
        expires = issued + self.ttl_s
        return f"?ex={expires:x}&is={issued:x}&hm={self._mac(path, expires, issued)}&"

    def valid(self, path: str, query: Mapping[str, str]) -> bool:
        """True when ``query`` carries a signature of ``path`` that has not expired on the clock."""
        try:
            expires, issued, mac = int(query["ex"], 16), int(query["is"], 16), query["hm"]
        except (KeyError, ValueError):
            return False
        if not hmac.compare_digest(mac, self._mac(path, expires, issued)):
            return False
        return self.clock.time() < expires

    def _mac(self, path: str, expires: int, issued: int) -> str:
        message = f"{path}|{expires:x}|{issued:x}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
