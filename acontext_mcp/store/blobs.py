"""Blob bytes on any fsspec filesystem, addressed by slash-separated keys."""

from __future__ import annotations

import contextlib
import errno
from uuid import uuid4

import anyio.to_thread
import fsspec
from fsspec.core import url_to_fs

from acontext_mcp.errors import DiskFull, InvalidArgument

_TREE_ATTEMPTS = 5
# Object stores, where a put replaces the whole object at once: no temporary name needed.
_WHOLE_OBJECT_PUTS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "memory"})


class BlobStore:
    """Bytes under a root URL (`file:///...`, `memory://...`, `s3://...`).

    `put` writes a local file to a temporary name and moves it into place, so a reader never sees a
    torn file; object stores (s3, gcs, memory, ...) replace an object whole, so it writes there directly.
    """

    def __init__(self, url: str) -> None:
        try:
            self._fs, root = url_to_fs(url)
        except ImportError as exc:  # fsspec imports a backend (s3fs, gcsfs, ...) only when its URL is used
            raise InvalidArgument(f"no fsspec backend installed for {url!r}: {exc}") from None
        self._root = root.rstrip("/")
        protocols = {self._fs.protocol} if isinstance(self._fs.protocol, str) else set(self._fs.protocol)
        self._atomic_writes = bool(protocols & _WHOLE_OBJECT_PUTS)
        self._fs.makedirs(self._root, exist_ok=True)

    @property
    def fs(self) -> fsspec.AbstractFileSystem:
        return self._fs

    def path(self, key: str) -> str:
        return f"{self._root}/{key}"

    async def put(self, key: str, data: bytes) -> None:
        await anyio.to_thread.run_sync(self._put, key, data)

    def _put(self, key: str, data: bytes) -> None:
        final = self.path(key)
        if self._atomic_writes:
            self._fs.pipe_file(final, data)
            return
        parent = final.rsplit("/", 1)[0]
        temporary = f"{parent}/.tmp-{uuid4().hex}"
        try:
            self._fs.makedirs(parent, exist_ok=True)
            self._fs.pipe_file(temporary, data)
            self._fs.mv(temporary, final)
        except OSError as exc:
            with contextlib.suppress(OSError):  # never leave a temporary file behind, a full disk least of all
                self._fs.rm_file(temporary)
            if exc.errno == errno.ENOSPC:
                raise DiskFull(self._root) from exc
            raise

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(self._fs.cat_file, self.path(key))

    async def delete(self, key: str) -> None:
        """Remove one blob; a missing one is not an error."""
        await anyio.to_thread.run_sync(self._delete, key)

    def _delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm_file(self.path(key))

    async def sign(self, key: str, expires_in: int) -> str | None:
        """A presigned URL for the blob where the filesystem offers them (s3, gcs), else None."""
        try:
            return str(await anyio.to_thread.run_sync(self._fs.sign, self.path(key), expires_in))
        except NotImplementedError:
            return None

    async def delete_tree(self, prefix: str) -> None:
        """Remove every blob under `prefix`; a missing prefix is not an error."""
        await anyio.to_thread.run_sync(self._delete_tree, prefix)

    def _delete_tree(self, prefix: str) -> None:
        path = self.path(prefix)
        for _ in range(_TREE_ATTEMPTS):  # a concurrent writer may add or remove files while the tree goes
            try:
                if self._fs.exists(path):
                    self._fs.rm(path, recursive=True)
                return
            except (FileNotFoundError, OSError) as exc:
                if not isinstance(exc, FileNotFoundError) and exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise

    async def children(self, prefix: str = "") -> list[str]:
        """The names directly under `prefix` (folders and blobs)."""
        return await anyio.to_thread.run_sync(self._children, prefix)

    def _children(self, prefix: str) -> list[str]:
        path = self.path(prefix) if prefix else self._root
        try:
            return [entry.rstrip("/").rsplit("/", 1)[-1] for entry in self._fs.ls(path, detail=False)]
        except FileNotFoundError:
            return []
