"""Tools: create_disk, list_disks, delete_disk, and the artifact tools upsert/get/list/delete/glob/grep/move."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.disks.models import (
    MAX_GREP_LIMIT,
    Artifact,
    ArtifactContent,
    ArtifactListing,
    ArtifactMatches,
    Disk,
    DiskList,
    Encoding,
    GrepResult,
)
from acontext_mcp.services.models import Deleted
from acontext_mcp.tools.sessions import UserArg

DiskId = Annotated[str, Field(description="A disk id from create_disk or list_disks")]
FilePath = Annotated[str, Field(description="The folder, from the disk root, e.g. '/todo/' ('/' for the root)")]
Filename = Annotated[str, Field(description="The file name without folders, e.g. 'todo.md'")]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def create_disk(
        ctx: Context,
        name: Annotated[str | None, Field(description="A label to recognise the disk by")] = None,
        user: UserArg = None,
    ) -> Disk:
        """Create an empty disk: a file store for plans, code, reports or images. Returns its id."""
        return await service_of(ctx).disks.create_disk(name, user=user)

    @server.tool()
    @domain_errors
    async def list_disks(
        ctx: Context, user: Annotated[str | None, Field(description="Only this user's disks")] = None
    ) -> DiskList:
        """List every disk with its name and number of files, oldest first."""
        return await service_of(ctx).disks.list_disks(user=user)

    @server.tool()
    @domain_errors
    async def delete_disk(ctx: Context, disk_id: DiskId) -> Deleted:
        """Delete a disk and every file on it. This cannot be undone."""
        return await service_of(ctx).disks.delete_disk(disk_id)

    @server.tool()
    @domain_errors
    async def upsert_artifact(
        ctx: Context,
        disk_id: DiskId,
        file_path: FilePath,
        filename: Filename,
        content: Annotated[str, Field(description="The file's text, or its bytes in base64 (see encoding)")],
        encoding: Annotated[Encoding, Field(description="utf-8 for text, base64 for binary content")] = "utf-8",
        meta: Annotated[dict[str, Any] | None, Field(description="Any JSON object to keep with the file")] = None,
    ) -> Artifact:
        """Write a file to a disk, replacing any file at the same path. Returns its size, mime type and sha256.

        Folders need no creating: writing /todo/todo.md makes /todo/ appear in list_artifacts.
        """
        return await service_of(ctx).disks.upsert_artifact(disk_id, file_path, filename, content, encoding, meta)

    @server.tool()
    @domain_errors
    async def get_artifact(
        ctx: Context,
        disk_id: DiskId,
        file_path: FilePath,
        filename: Filename,
        with_content: Annotated[bool, Field(description="Include the content")] = True,
        with_public_url: Annotated[bool, Field(description="Include an expiring URL anyone can download from")] = False,
    ) -> ArtifactContent:
        """Read a file: its content (text, or base64 for binary; see encoding), meta, size, mime type and sha256.

        With with_public_url, also a time-limited download URL to share (null, with a note, when the
        server runs over stdio and so serves no HTTP).
        """
        return await service_of(ctx).disks.get_artifact(disk_id, file_path, filename, with_content, with_public_url)

    @server.tool()
    @domain_errors
    async def list_artifacts(
        ctx: Context,
        disk_id: DiskId,
        path: Annotated[str, Field(description="The folder to list, e.g. '/todo/'")] = "/",
    ) -> ArtifactListing:
        """List the files and sub-folders directly under a folder (like `ls`)."""
        return await service_of(ctx).disks.list_artifacts(disk_id, path)

    @server.tool()
    @domain_errors
    async def delete_artifact(ctx: Context, disk_id: DiskId, file_path: FilePath, filename: Filename) -> Deleted:
        """Delete one file from a disk; its folder disappears from list_artifacts once empty."""
        return await service_of(ctx).disks.delete_artifact(disk_id, file_path, filename)

    @server.tool()
    @domain_errors
    async def glob_artifacts(
        ctx: Context,
        disk_id: DiskId,
        pattern: Annotated[str, Field(description="e.g. '**/*.md' (any folder), '/todo/*.md', 'report-??.txt'")],
    ) -> ArtifactMatches:
        """Find files whose full path matches a glob: `**` spans folders, `*` and `?` stay within one name."""
        return await service_of(ctx).disks.glob_artifacts(disk_id, pattern)

    @server.tool()
    @domain_errors
    async def grep_artifacts(
        ctx: Context,
        disk_id: DiskId,
        pattern: Annotated[str, Field(description="A Python regular expression, matched against each line")],
        path: Annotated[str, Field(description="Search only files under this folder")] = "/",
        limit: Annotated[int, Field(ge=1, le=MAX_GREP_LIMIT, description="Most matching lines to return")] = 100,
    ) -> GrepResult:
        """Search the text files under a folder for lines matching a regular expression (like `grep -rn`).

        Returns each match's folder, file name, line number and line; truncated is true when the
        limit or the scan budget stopped the search early (see note).
        """
        return await service_of(ctx).disks.grep_artifacts(disk_id, pattern, path, limit)

    @server.tool()
    @domain_errors
    async def move_artifact(
        ctx: Context,
        disk_id: DiskId,
        file_path: FilePath,
        filename: Filename,
        new_file_path: Annotated[str, Field(description="The destination folder, e.g. '/done/'")],
        new_filename: Annotated[str, Field(description="The destination file name")],
    ) -> Artifact:
        """Move or rename a file within its disk. Fails if a file already exists at the destination."""
        return await service_of(ctx).disks.move_artifact(disk_id, file_path, filename, new_file_path, new_filename)
