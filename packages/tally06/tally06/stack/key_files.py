"""Keys for personal-data protection in the embedded stack.

Production passes ``TALLY06_HMAC_KEY`` and ``TALLY06_PII_KEYS`` from a secret store. The
embedded stack creates them once in its home folder (mode 0600) so a restart keeps citizens'
identities and encrypted data readable.
"""

from __future__ import annotations

import os
from pathlib import Path

from tally06.domain.pii import new_key

KEYS_FILE = "keys.env"


def load_or_create_keys(home: Path) -> dict[str, str]:
    """Keys from the environment, else from ``home/keys.env``, created on first use."""
    if os.environ.get("TALLY06_HMAC_KEY") and os.environ.get("TALLY06_PII_KEYS"):
        return {k: os.environ[k] for k in ("TALLY06_HMAC_KEY", "TALLY06_PII_KEYS")}
    path = home / KEYS_FILE
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(f"TALLY06_HMAC_KEY={new_key()}\nTALLY06_PII_KEYS=k1:{new_key()}\n")
    keys = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            keys[name.strip()] = value.strip()
    return keys
