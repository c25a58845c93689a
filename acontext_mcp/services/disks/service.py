"""Disks: named file stores for agent artifacts. Records live in the database, bytes in a `BlobStore`.

Every write puts the bytes under a fresh storage key (temporary name, then moved into place)
before the record commits, and removes the replaced bytes only after it commits. A crash thus
leaves at worst unreferenced bytes, never a record pointing at missing or torn ones, and two
concurrent upserts of one path end with the last committed writer's complete bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import time
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.to_thread

from acontext_mcp.errors import InvalidArgument, NotFound, PayloadTooLarge
from acontext_mcp.projects import current_project
from acontext_mcp.services.disks import paths
from acontext_mcp.services.disks.models import (
    MAX_GREP_LIMIT,
    Artifact,
    ArtifactContent,
    ArtifactListing,
    ArtifactMatches,
    Disk,
    DiskList,
    Encoding,
    GrepMatch,
    GrepResult,
    as_text,
)
from acontext_mcp.services.disks.public_urls import UrlSigner
from acontext_mcp.services.limits import encode_json_object, freeing
from acontext_mcp.services.models import Deleted
from acontext_mcp.services.users import ensure_user
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database, Reader, Row, Writer, new_id, utc_now

MAX_LISTED = 1000
MAX_GREP_PATTERN_CHARS = 1000
MAX_GREP_SCAN_BYTES = 32 * 1024 * 1024
MAX_GREP_LINE_CHARS = 2000
GREP_TIMEOUT_SECONDS = 5.0
MAX_DISK_NAME_CHARS = 255

_UNKNOWN_DISK = "call list_disks to see the disks that exist, or create_disk for a new one"
_UNKNOWN_ARTIFACT = "call list_artifacts or glob_artifacts to see the files on this disk"
_NO_HTTP = ("no public URL: this server runs over stdio, so no HTTP route serves artifacts; run "
            "`acontext-mcp serve --transport http` (or set ACONTEXT_PUBLIC_URL to one that shares this data dir)")


_MAX_FOLLOWS = 1000  # overwrites a read follows before giving up: writers make progress each time


class DiskService:
    def __init__(
        self,
        db: Database,
        blobs: BlobStore,
        max_artifact_bytes: int,
        max_meta_bytes: int,
        signer: UrlSigner | None,
        public_url_ttl_seconds: int,
        presign: bool = True,
    ) -> None:
        self._db = db
        self._blobs = blobs
        self._max_artifact_bytes = max_artifact_bytes
        self._max_meta_bytes = max_meta_bytes
        self._signer = signer
        self._ttl = public_url_ttl_seconds
        self._presign = presign

    async def create_disk(self, name: str | None = None, user: str | None = None) -> Disk:
        """Create an empty disk, belonging to `user` (an identifier, created on first use) when given.
        Raises `InvalidArgument` for an over-long name or a bad user identifier."""
        if name is not None and len(name) > MAX_DISK_NAME_CHARS:
            raise InvalidArgument(f"name is {len(name)} characters, over the limit of {MAX_DISK_NAME_CHARS}")
        disk = Disk(id=new_id(), name=name, created_at=utc_now(), user=user)
        async with self._db.transaction() as tx:
            user_id = await ensure_user(tx, user) if user is not None else None
            await tx.execute("INSERT INTO disks (id, name, created_at, project_id, user_id) VALUES (?, ?, ?, ?, ?)",
                             (disk.id, disk.name, disk.created_at, current_project(), user_id))
        return disk

    async def list_disks(self, user: str | None = None) -> DiskList:
        """Every disk (of `user`, when given), oldest first, with its number of files."""
        where, params = "d.project_id = ?", [current_project()]
        if user is not None:
            where, params = f"{where} AND u.identifier = ?", [*params, user]
        rows = await self._db.fetch_all(
            "SELECT d.*, u.identifier AS user, (SELECT COUNT(*) FROM artifacts a WHERE a.disk_id = d.id) AS "
            f"artifact_count FROM disks d LEFT JOIN users u ON u.id = d.user_id WHERE {where} ORDER BY d.rowid",
            params,
        )
        return DiskList(items=[Disk(**dict(row)) for row in rows])

    async def delete_disk(self, disk_id: str) -> Deleted:
        """Delete a disk with all its files. Raises `NotFound`."""
        async def delete() -> None:
            async with self._db.transaction() as tx:
                await self._edit_disk(tx, disk_id)
                await tx.execute("DELETE FROM disks WHERE id = ?", (disk_id,))

        await freeing(delete)  # works on a full disk too: deleting is how space is freed
        await self._blobs.delete_tree(disk_id)
        return Deleted(id=disk_id)

    async def upsert_artifact(
        self,
        disk_id: str,
        file_path: str,
        filename: str,
        content: str,
        encoding: Encoding = "utf-8",
        meta: dict[str, Any] | None = None,
    ) -> Artifact:
        """Create or replace the file at `file_path` + `filename`.

        Raises `InvalidArgument` (bad path, base64 or meta), `PayloadTooLarge`, `NotFound` (disk);
        on any of them nothing is written.
        """
        return await self.upsert_bytes(disk_id, file_path, filename, self._decode(content, encoding), meta)

    async def upsert_bytes(
        self, disk_id: str, file_path: str, filename: str, data: bytes, meta: dict[str, Any] | None = None
    ) -> Artifact:
        """`upsert_artifact` with the bytes themselves (a multipart upload). Raises as it does."""
        if len(data) > self._max_artifact_bytes:
            raise PayloadTooLarge("content", len(data), self._max_artifact_bytes, "ACONTEXT_MAX_ARTIFACT_BYTES")
        folder, name = paths.folder(file_path), paths.filename(filename)
        paths.full_path(folder, name)
        encoded_meta = encode_json_object(meta, "meta", self._max_meta_bytes)
        await self._require_disk(disk_id)
        sha256, is_text = await anyio.to_thread.run_sync(_describe, data)
        storage_key = f"{disk_id}/{new_id()}"
        values: dict[str, object] = {
            "id": new_id(), "disk_id": disk_id, "path": folder, "filename": name, "size": len(data),
            "mime_type": _mime_type(name, is_text), "is_text": int(is_text), "sha256": sha256,
            "meta": encoded_meta, "storage_key": storage_key,
        }
        await self._blobs.put(storage_key, data)
        try:
            async with self._db.transaction() as tx:
                await self._edit_disk(tx, disk_id)
                values["created_at"] = values["updated_at"] = utc_now()
                old = await tx.fetch_one(
                    "SELECT id, storage_key, created_at FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?",
                    (disk_id, folder, name),
                )
                if old is not None:
                    values.update(id=old["id"], created_at=old["created_at"])
                    await tx.execute("DELETE FROM artifacts WHERE id = ?", (old["id"],))
                await tx.execute(
                    f"INSERT INTO artifacts ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                    tuple(values.values()),
                )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._blobs.delete(storage_key)
            raise
        if old is not None:
            await self._blobs.delete(old["storage_key"])
        return _artifact(values)

    async def get_artifact(
        self,
        disk_id: str,
        file_path: str,
        filename: str,
        with_content: bool = True,
        with_public_url: bool = False,
    ) -> ArtifactContent:
        """One file: its record, its content (text, or base64 for binary), and optionally a public URL.

        Raises `InvalidArgument` (bad path) and `NotFound` (disk, file, or bytes lost by the store).
        """
        row = await self._find(disk_id, file_path, filename)
        extra: dict[str, Any] = {}
        if with_content:
            row, data = await self._load(row)
            text = as_text(data)
            if text is None:
                extra.update(content=base64.b64encode(data).decode(), encoding="base64")
            else:
                extra.update(content=text, encoding="utf-8")
        if with_public_url:
            extra.update(await self._public_url(row))
        return ArtifactContent(**_artifact(row).model_dump(), **extra)

    async def read_artifact(self, disk_id: str, file_path: str, filename: str) -> tuple[Artifact, bytes]:
        """A file's record and bytes. Raises `InvalidArgument` and `NotFound`."""
        row, data = await self._load(await self._find(disk_id, file_path, filename))
        return _artifact(row), data

    async def read_public(self, token: str) -> tuple[Artifact, bytes]:
        """The file a public URL token names. Raises `InvalidToken` and `NotFound`."""
        if self._signer is None:
            raise NotFound("artifact URL", token, "this server does not serve public URLs")
        disk_id, artifact_id, sha256 = self._signer.verify(token)
        row = await self._db.fetch_one("SELECT * FROM artifacts WHERE id = ? AND disk_id = ?", (artifact_id, disk_id))
        if row is None:
            raise NotFound("artifact", artifact_id, "it was deleted after this URL was made")
        if sha256 and row["sha256"] != sha256:  # the link shares the version it was made for, never a later one
            raise NotFound("artifact version", sha256[:12],
                           "the file changed after this URL was made; ask get_artifact for a new one")
        row, data = await self._load(row)
        return _artifact(row), data

    async def list_artifacts(self, disk_id: str, path: str = "/") -> ArtifactListing:
        """Files and sub-folders directly under `path`. Raises `InvalidArgument` and `NotFound`."""
        folder = paths.folder(path, "path")
        await self._require_disk(disk_id)
        files = await self._db.fetch_all(
            "SELECT * FROM artifacts WHERE disk_id = ? AND path = ? ORDER BY filename LIMIT ?",
            (disk_id, folder, MAX_LISTED + 1),
        )
        n = len(folder)
        folders = await self._db.fetch_all(
            "SELECT DISTINCT substr(path, 1, ? + instr(substr(path, ? + 1), '/')) AS folder FROM artifacts "
            "WHERE disk_id = ? AND path != ? AND substr(path, 1, ?) = ? ORDER BY folder LIMIT ?",
            (n, n, disk_id, folder, n, folder, MAX_LISTED + 1),
        )
        return ArtifactListing(
            disk_id=disk_id,
            path=folder,
            folders=[row["folder"] for row in folders[:MAX_LISTED]],
            files=[_artifact(row) for row in files[:MAX_LISTED]],
            truncated=len(files) > MAX_LISTED or len(folders) > MAX_LISTED,
        )

    async def delete_artifact(self, disk_id: str, file_path: str, filename: str) -> Deleted:
        """Delete one file. Raises `InvalidArgument` and `NotFound`."""
        folder, name = paths.folder(file_path), paths.filename(filename)
        async with self._db.transaction() as tx:
            await self._edit_disk(tx, disk_id)
            row = await tx.fetch_one(
                "SELECT id, storage_key FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?",
                (disk_id, folder, name),
            )
            if row is None:
                raise NotFound("artifact", f"{folder}{name}", _UNKNOWN_ARTIFACT)
            await tx.execute("DELETE FROM artifacts WHERE id = ?", (row["id"],))
        await self._blobs.delete(row["storage_key"])
        return Deleted(id=row["id"])

    async def move_artifact(
        self, disk_id: str, file_path: str, filename: str, new_file_path: str, new_filename: str
    ) -> Artifact:
        """Rename or move a file within its disk; the target must be free.

        Raises `InvalidArgument` (bad path, target exists) and `NotFound`.
        """
        folder, name = paths.folder(file_path), paths.filename(filename)
        new_folder = paths.folder(new_file_path, "new_file_path")
        new_name = paths.filename(new_filename, "new_filename")
        paths.full_path(new_folder, new_name, "new_filename")
        async with self._db.transaction() as tx:
            await self._edit_disk(tx, disk_id)
            row = await tx.fetch_one(
                "SELECT * FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?", (disk_id, folder, name)
            )
            if row is None:
                raise NotFound("artifact", f"{folder}{name}", _UNKNOWN_ARTIFACT)
            if (folder, name) == (new_folder, new_name):
                return _artifact(row)
            taken = await tx.fetch_one(
                "SELECT 1 FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?",
                (disk_id, new_folder, new_name),
            )
            if taken is not None:
                raise InvalidArgument(f"{new_folder}{new_name} already exists on this disk; "
                                      "delete it first or choose another new_filename")
            now = utc_now()
            await tx.execute("UPDATE artifacts SET path = ?, filename = ?, updated_at = ? WHERE id = ?",
                             (new_folder, new_name, now, row["id"]))
        return _artifact({**dict(row), "path": new_folder, "filename": new_name, "updated_at": now})

    async def set_artifact_meta(self, disk_id: str, file_path: str, filename: str, meta: dict[str, Any]) -> Artifact:
        """Replace a file's meta, keeping its bytes. Raises `InvalidArgument` (path, meta) and `NotFound`."""
        folder, name = paths.folder(file_path), paths.filename(filename)
        encoded = encode_json_object(meta, "meta", self._max_meta_bytes)
        async with self._db.transaction() as tx:
            await self._edit_disk(tx, disk_id)
            row = await tx.fetch_one(
                "SELECT * FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?", (disk_id, folder, name)
            )
            if row is None:
                raise NotFound("artifact", f"{folder}{name}", _UNKNOWN_ARTIFACT)
            now = utc_now()
            await tx.execute("UPDATE artifacts SET meta = ?, updated_at = ? WHERE id = ?", (encoded, now, row["id"]))
        return _artifact({**dict(row), "meta": encoded, "updated_at": now})

    async def glob_artifacts(self, disk_id: str, pattern: str) -> ArtifactMatches:
        """Files whose full path matches a glob such as `**/*.md`. Raises `InvalidArgument` and `NotFound`."""
        segments = paths.glob_pattern(pattern)
        await self._require_disk(disk_id)
        rows = await self._db.fetch_all("SELECT * FROM artifacts WHERE disk_id = ? ORDER BY path, filename",
                                        (disk_id,))
        matched = [row for row in rows if paths.glob_match(segments, _segments(row))]
        return ArtifactMatches(items=[_artifact(row) for row in matched[:MAX_LISTED]],
                               truncated=len(matched) > MAX_LISTED)

    async def grep_artifacts(self, disk_id: str, pattern: str, path: str = "/", limit: int = 100) -> GrepResult:
        """Lines of text files under `path` matching a regular expression, in path order.

        The scan stops at `limit` matches or before passing `MAX_GREP_SCAN_BYTES` (the first file is
        always scanned); a pattern that runs longer than
        `GREP_TIMEOUT_SECONDS` is refused. Raises `InvalidArgument` and `NotFound`.
        """
        if not 1 <= limit <= MAX_GREP_LIMIT:
            raise InvalidArgument(f"limit must be between 1 and {MAX_GREP_LIMIT}, got {limit}")
        compiled = _compile(pattern)
        folder = paths.folder(path, "path")
        await self._require_disk(disk_id)
        rows = await self._db.fetch_all(
            "SELECT * FROM artifacts WHERE disk_id = ? AND is_text = 1 AND substr(path, 1, ?) = ? "
            "ORDER BY path, filename",
            (disk_id, len(folder), folder),
        )
        deadline = time.monotonic() + GREP_TIMEOUT_SECONDS
        matches: list[GrepMatch] = []
        scanned_bytes = files_scanned = 0
        note = None
        for row in rows:
            if files_scanned and scanned_bytes + row["size"] > MAX_GREP_SCAN_BYTES:
                note = (f"stopped after scanning {scanned_bytes} bytes (limit {MAX_GREP_SCAN_BYTES}); "
                        "narrow `path` to search the rest")
                break
            row, data = await self._load(row)
            if (text := as_text(data)) is None:  # replaced by binary content since the query
                continue
            scanned_bytes += len(data)
            files_scanned += 1
            lines = await anyio.to_thread.run_sync(_grep, compiled, text, limit - len(matches), deadline)
            matches += [GrepMatch(file_path=row["path"], filename=row["filename"], line_number=number, line=line)
                        for number, line in lines]
            if len(matches) >= limit:
                note = f"stopped at limit={limit} matches"
                break
        return GrepResult(matches=matches, truncated=note is not None, files_scanned=files_scanned, note=note)

    async def recent_artifacts(self, limit: int) -> list[Artifact]:
        """The most recently written files across the project's disks."""
        rows = await self._db.fetch_all(
            "SELECT a.* FROM artifacts a JOIN disks d ON d.id = a.disk_id WHERE d.project_id = ? "
            "ORDER BY a.updated_at DESC LIMIT ?", (current_project(), limit)
        )
        return [_artifact(row) for row in rows]

    async def _public_url(self, row: Row) -> dict[str, Any]:
        """A presigned store URL where the filesystem offers one (unless `presign` is off), else this
        server's signed route."""
        presigned = await self._blobs.sign(row["storage_key"], self._ttl) if self._presign else None
        if presigned is not None:
            return {"public_url": presigned, "public_url_expires_at": _iso(int(time.time()) + self._ttl)}
        if self._signer is None:
            return {"note": _NO_HTTP}
        url, expires = self._signer.url(row["disk_id"], row["id"], self._ttl, row["sha256"])
        return {"public_url": url, "public_url_expires_at": _iso(expires)}

    async def _edit_disk(self, tx: Writer, disk_id: str) -> None:
        """`_require_disk`, then hold the disk's files (against other replicas) until the commit."""
        await tx.lock(f"disk:{disk_id}")
        await self._require_disk(disk_id, tx)

    async def _require_disk(self, disk_id: str, reader: Reader | None = None) -> None:
        row = await (reader or self._db).fetch_one(
            "SELECT 1 FROM disks WHERE id = ? AND project_id = ?", (disk_id, current_project())
        )
        if row is None:
            raise NotFound("disk", disk_id, _UNKNOWN_DISK)

    async def _find(self, disk_id: str, file_path: str, filename: str) -> Row:
        folder, name = paths.folder(file_path), paths.filename(filename)
        await self._require_disk(disk_id)
        row = await self._db.fetch_one(
            "SELECT * FROM artifacts WHERE disk_id = ? AND path = ? AND filename = ?", (disk_id, folder, name)
        )
        if row is None:
            raise NotFound("artifact", f"{folder}{name}", _UNKNOWN_ARTIFACT)
        return row

    async def _load(self, row: Row) -> tuple[Row, bytes]:
        """The bytes of `row`, following the record while concurrent upserts replace them meanwhile: a reader
        gets the old or the new bytes. Only bytes missing (or changed) under a record that still names them
        are lost."""
        for _ in range(_MAX_FOLLOWS):
            try:
                data: bytes | None = await self._blobs.get(row["storage_key"])
            except FileNotFoundError:
                data = None
            if data is not None and await anyio.to_thread.run_sync(_sha256, data) == row["sha256"]:
                return row, data
            fresh = await self._db.fetch_one("SELECT * FROM artifacts WHERE id = ?", (row["id"],))
            if fresh is None:
                raise NotFound("artifact", f"{row['path']}{row['filename']}", "it was deleted while being read")
            if fresh["storage_key"] == row["storage_key"]:
                break  # the record still names these bytes: they are gone for good
            row = fresh  # overwritten meanwhile: read the new version
        raise NotFound("bytes of artifact", f"{row['path']}{row['filename']}",
                       "the artifact store (ACONTEXT_ARTIFACT_URL) lost or changed them; upsert the file again")

    def _decode(self, content: str, encoding: Encoding) -> bytes:
        limit = self._max_artifact_bytes
        if encoding == "base64":
            compact = "".join(content.split())
            if (estimate := len(compact) * 3 // 4) > limit + 2:
                raise PayloadTooLarge("content", estimate, limit, "ACONTEXT_MAX_ARTIFACT_BYTES")
            try:
                data = base64.b64decode(compact, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise InvalidArgument(f"content is not valid base64 ({exc}); send text with encoding='utf-8', "
                                      "or standard base64 of the bytes with encoding='base64'") from None
        else:
            try:
                data = content.encode()
            except UnicodeEncodeError as exc:
                raise InvalidArgument(f"content is not valid Unicode text ({exc.reason}); "
                                      "send binary data base64-encoded with encoding='base64'") from None
        if len(data) > limit:
            raise PayloadTooLarge("content", len(data), limit, "ACONTEXT_MAX_ARTIFACT_BYTES")
        return data


def _compile(pattern: str) -> Any:
    import regex

    if not pattern:
        raise InvalidArgument("pattern is empty; pass a regular expression such as 'TODO' or '^# '")
    if len(pattern) > MAX_GREP_PATTERN_CHARS:
        raise InvalidArgument(f"pattern is {len(pattern)} characters, over the limit of {MAX_GREP_PATTERN_CHARS}")
    try:
        return regex.compile(pattern)
    except regex.error as exc:
        raise InvalidArgument(f"pattern is not a valid regular expression: {exc}") from None


def _grep(compiled: Any, text: str, limit: int, deadline: float) -> list[tuple[int, str]]:
    """(line number, line) of each matching line, up to `limit`; runs in a worker thread."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            hit = compiled.search(line, timeout=max(deadline - time.monotonic(), 0.001), concurrent=True)
        except TimeoutError:
            raise InvalidArgument(f"pattern ran longer than {GREP_TIMEOUT_SECONDS:g} s; simplify it (avoid nested "
                                  "quantifiers such as (a+)+) or narrow `path`") from None
        if hit is not None:
            found.append((number, line if len(line) <= MAX_GREP_LINE_CHARS else f"{line[:MAX_GREP_LINE_CHARS]}…"))
            if len(found) >= limit:
                break
    return found


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _describe(data: bytes) -> tuple[str, bool]:
    """The bytes' sha256 and whether they are text; run in a worker thread, as both read every byte."""
    return _sha256(data), as_text(data) is not None


def _mime_type(filename: str, is_text: bool) -> str:
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or ("text/plain" if is_text else "application/octet-stream")


def _segments(row: Row) -> list[str]:
    return [*row["path"].strip("/").split("/"), row["filename"]] if row["path"] != "/" else [row["filename"]]


def _artifact(row: Row | dict[str, Any]) -> Artifact:
    return Artifact(
        id=row["id"], disk_id=row["disk_id"], file_path=row["path"], filename=row["filename"], size=row["size"],
        mime_type=row["mime_type"], sha256=row["sha256"], meta=json.loads(row["meta"]),
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _iso(unix_time: int) -> str:
    return datetime.fromtimestamp(unix_time, UTC).isoformat()
