"""Plain async services over the store; usable without MCP. `AcontextService` holds them all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from acontext_mcp.services.messages import MessageService
from acontext_mcp.services.search import SearchService
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.services.spaces import SpaceService
from acontext_mcp.settings import Settings
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.migrations import migrate
from acontext_mcp.store.sqlite import Database
from acontext_mcp.store.vectors import BlockIndex


@dataclass(frozen=True)
class AcontextService:
    """Everything a running server needs, built once from settings.

    Open it with `async with AcontextService.open(settings) as acx:`; the database is
    migrated before the services exist.
    """

    settings: Settings
    db: Database
    sessions: SessionService
    messages: MessageService
    search: SearchService
    spaces: SpaceService

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[AcontextService]:
        async with Database.open(settings.database_path) as db:
            await migrate(db)
            blobs = BlobStore(settings.blobs_url)
            index = BlockIndex(settings.search_index_uri, settings.embedding, settings.embedding_model)
            search = SearchService(db, index)
            yield cls(
                settings=settings,
                db=db,
                sessions=SessionService(db, blobs, max_metadata_bytes=settings.max_message_bytes),
                messages=MessageService(
                    db,
                    blobs,
                    max_message_bytes=settings.max_message_bytes,
                    blob_threshold_bytes=settings.blob_threshold_bytes,
                ),
                search=search,
                spaces=SpaceService(db, search, max_data_bytes=settings.max_message_bytes),
            )
