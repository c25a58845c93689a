"""Plain async services over the store; usable without MCP. `AcontextService` holds them all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from acontext_mcp.services.disks import DiskService
from acontext_mcp.services.messages import MessageService, count_missing_tokens
from acontext_mcp.services.public_urls import UrlSigner
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.settings import Settings
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.migrations import migrate
from acontext_mcp.store.secrets import load_or_create_secret
from acontext_mcp.store.sqlite import Database
from acontext_mcp.tokens import open_counter


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
    disks: DiskService

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[AcontextService]:
        async with Database.open(settings.database_path) as db:
            await migrate(db)
            blobs = BlobStore(settings.blobs_url)
            counter = open_counter(settings.tokenizer)
            await count_missing_tokens(db, counter)
            yield cls(
                settings=settings,
                db=db,
                sessions=SessionService(db, blobs, max_metadata_bytes=settings.max_message_bytes),
                messages=MessageService(
                    db,
                    blobs,
                    max_message_bytes=settings.max_message_bytes,
                    blob_threshold_bytes=settings.blob_threshold_bytes,
                    counter=counter,
                ),
                disks=DiskService(
                    db,
                    BlobStore(settings.artifacts_url),
                    max_artifact_bytes=settings.max_artifact_bytes,
                    max_meta_bytes=settings.max_message_bytes,
                    signer=_url_signer(settings),
                    public_url_ttl_seconds=settings.public_url_ttl_seconds,
                ),
            )


def _url_signer(settings: Settings) -> UrlSigner | None:
    """Signs public artifact URLs, when some HTTP server will serve them."""
    if settings.public_base_url is None:
        return None
    if settings.url_secret:
        secret = settings.url_secret.get_secret_value().encode()
    else:
        secret = load_or_create_secret(settings.data_dir / "url_secret")
    return UrlSigner(secret, settings.public_base_url)
