"""A random secret kept in a file of the data dir, created once and shared by every process."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def private_dir(path: Path) -> None:
    """Create `path` (and parents) if missing, and make it readable by this user only (0700)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def private_file(path: Path) -> None:
    """Create `path` empty if missing, in a private folder, readable by this user only (0600); SQLite gives its
    -wal and -shm files the same mode."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret at `path`, creating it (mode 0600) if missing; racing creators agree on one."""
    if not path.exists():
        private_dir(path.parent)
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
