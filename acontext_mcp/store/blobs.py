"""Blob bytes on any fsspec filesystem, addressed by slash-separated keys."""

from __future__ import annotations

from uuid import uuid4

import anyio.to_thread
import fsspec
from fsspec.core import url_to_fs


class BlobStore:
    """Bytes under a root URL (`file:///...`, `memory://...`, `s3://...`).

    `put` writes to a temporary name and moves it into place, so a reader never sees a torn file.
    """

    def __init__(self, url: str) -> None:
        self._fs, root = url_to_fs(url)
        self._root = root.rstrip("/")
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
        parent = final.rsplit("/", 1)[0]
        self._fs.makedirs(parent, exist_ok=True)
        temporary = f"{parent}/.tmp-{uuid4().hex}"
        self._fs.pipe_file(temporary, data)
        self._fs.mv(temporary, final)

    async def get(self, key: str) -> bytes:
        return await anyio.to_thread.run_sync(self._fs.cat_file, self.path(key))

    async def delete_tree(self, prefix: str) -> None:
        """Remove every blob under `prefix`; a missing prefix is not an error."""
        await anyio.to_thread.run_sync(self._delete_tree, prefix)

    def _delete_tree(self, prefix: str) -> None:
        path = self.path(prefix)
        if self._fs.exists(path):
            self._fs.rm(path, recursive=True)
