"""A random secret kept in a file of the data dir, created once and shared by every process."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret at `path`, creating it (mode 0600) if missing; racing creators agree on one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}-{secrets.token_hex(8)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # atomic: fails if another process created it first
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_bytes().strip()
