"""Plain async services over the store; usable without MCP. `AcontextService` holds them all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from acontext_mcp.background import running
from acontext_mcp.background.learner import Learner
from acontext_mcp.background.observer import Observer
from acontext_mcp.llm import provider_from_settings
from acontext_mcp.llm.openai_compat import PLACEHOLDER_KEY
from acontext_mcp.services.learner import LearnerService
from acontext_mcp.services.leases import Leases
from acontext_mcp.services.disks import DiskService
from acontext_mcp.services.llm_usage import LlmUsage
from acontext_mcp.services.messages import MessageService, count_missing_tokens
from acontext_mcp.services.metrics import MetricsService
from acontext_mcp.services.observer import ObserverConfig, ObserverService
from acontext_mcp.services.queue import RetryPolicy
from acontext_mcp.services.public_urls import UrlSigner
from acontext_mcp.services.search import SearchService
from acontext_mcp.services.search_agent import SearchAgent
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.services.skill_agent import SkillAgent
from acontext_mcp.services.spaces import SpaceService
from acontext_mcp.services.summaries import SummaryService
from acontext_mcp.services.task_agent import TaskAgent
from acontext_mcp.services.tasks import TaskService
from acontext_mcp.services.tool_loop import ToolLoop
from acontext_mcp.settings import Settings
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database, open_database
from acontext_mcp.store.migrations import migrate
from acontext_mcp.store.secrets import load_or_create_secret
from acontext_mcp.store.vectors import BlockIndex
from acontext_mcp.tokens import open_counter


@dataclass(frozen=True)
class AcontextService:
    """Everything a running server needs, built once from settings.

    Open it with `async with AcontextService.open(settings) as acx:`; the database is
    migrated before the services exist, and background loops (the observer, when an LLM is
    configured: the observer and the learner) run until the block ends.
    """

    settings: Settings
    db: Database
    sessions: SessionService
    messages: MessageService
    tasks: TaskService
    observer: ObserverService
    summaries: SummaryService
    metrics: MetricsService
    search: SearchService
    spaces: SpaceService
    learner: LearnerService
    disks: DiskService

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, background: bool = True) -> AsyncIterator[AcontextService]:
        """`background=False` starts no loops: for readers such as the dashboard command."""
        async with open_database(settings.database) as db:
            await migrate(db)
            blobs = BlobStore(settings.blobs_url)
            counter = open_counter(settings.tokenizer)
            await count_missing_tokens(db, counter)
            tasks, usage = TaskService(db, on_learnable=lambda: learner.notify()), LlmUsage(db)
            leases = Leases(db, settings.queue_lease_s)  # this process's claims on shared queue items
            provider = provider_from_settings(settings)
            observer = ObserverService(
                db,
                tasks,
                usage,
                TaskAgent(provider, usage) if provider else None,
                ObserverConfig(
                    batch=settings.observer_batch,
                    idle_s=settings.observer_idle_s,
                    max_attempts=settings.observer_max_attempts,
                    retry_base_s=settings.observer_retry_base_s,
                ),
                leases,
                settings.queue_poll_s,
            )
            sessions = SessionService(db, blobs, max_metadata_bytes=settings.max_metadata_bytes)
            search = SearchService(db, BlockIndex(settings.search_index_uri, settings.embedding,
                                                  settings.embedding_model, embedding_options(settings)), leases)
            spaces = SpaceService(db, search, max_data_bytes=settings.max_message_bytes)
            learner = LearnerService(
                db,
                spaces,
                usage,
                SkillAgent(ToolLoop(provider, usage, settings.learner_max_steps), spaces, search) if provider else None,
                RetryPolicy(settings.learner_max_attempts, settings.learner_retry_base_s),
                leases,
                settings.queue_poll_s,
            )
            if provider is not None:
                search.agent = SearchAgent(ToolLoop(provider, usage, settings.agentic_search_max_steps), spaces, search)
            loops = [
                Observer(observer, settings.observer_concurrency).run,
                Learner(learner, settings.learner_concurrency).run,
            ] if provider is not None and background else []
            try:
                async with running(*loops):
                    yield cls(
                        settings=settings,
                        db=db,
                        sessions=sessions,
                        messages=MessageService(
                            db,
                            blobs,
                            max_message_bytes=settings.max_message_bytes,
                            blob_threshold_bytes=settings.blob_threshold_bytes,
                            counter=counter,
                            on_stored=lambda _session_id: observer.notify(),
                        ),
                        tasks=tasks,
                        observer=observer,
                        summaries=SummaryService(sessions, observer, counter),
                        metrics=MetricsService(db),
                        search=search,
                        spaces=spaces,
                        learner=learner,
                        disks=DiskService(
                            db,
                            BlobStore(settings.artifacts_url),
                            max_artifact_bytes=settings.max_artifact_bytes,
                            max_meta_bytes=settings.max_metadata_bytes,
                            signer=_url_signer(settings),
                            public_url_ttl_seconds=settings.public_url_ttl_seconds,
                            presign=settings.presign_urls,
                        ),
                    )
            finally:
                if provider is not None:
                    with anyio.CancelScope(shield=True):
                        await provider.aclose()


def embedding_options(settings: Settings) -> dict[str, str]:
    """The `openai` embedder uses the same endpoint and key as the LLM (OPENAI_BASE_URL, OPENAI_API_KEY)."""
    if settings.embedding != "openai" or not settings.llm_enabled:
        return {}  # the openai client then reads its usual environment variables
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else PLACEHOLDER_KEY
    return {"api_key": key, **({"base_url": settings.openai_base_url} if settings.openai_base_url else {})}


def _url_signer(settings: Settings) -> UrlSigner | None:
    """Signs public artifact URLs, when some HTTP server will serve them."""
    if settings.public_base_url is None:
        return None
    if settings.url_secret:
        secret = settings.url_secret.get_secret_value().encode()
    else:
        secret = load_or_create_secret(settings.data_dir / "url_secret")
    return UrlSigner(secret, settings.public_base_url)
