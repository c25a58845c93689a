"""The object graph: every service a running server uses, built once from settings, in dependency order.

Nothing is filled in after construction: what one part must tell another that is built later (tasks
becoming learnable, for the learner) goes through a `Signal` made first.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from acontext_mcp.llm import ChatProvider, OpenAICompatible
from acontext_mcp.llm.openai_compat import PLACEHOLDER_KEY
from acontext_mcp.llm.scrub import ScrubbingProvider, scrub
from acontext_mcp.llm.tool_loop import ToolLoop
from acontext_mcp.queue.leases import Leases
from acontext_mcp.queue.loop import QueueLoop, running
from acontext_mcp.queue.work import RetryPolicy, Signal
from acontext_mcp.services.capture import CaptureService
from acontext_mcp.services.disks.public_urls import UrlSigner
from acontext_mcp.services.disks.service import DiskService
from acontext_mcp.services.events import EventService
from acontext_mcp.services.learner import LearnerService
from acontext_mcp.services.llm_usage import LlmUsage
from acontext_mcp.services.logins import LoginService
from acontext_mcp.services.messages import MessageService, count_missing_tokens
from acontext_mcp.services.metrics import MetricsService
from acontext_mcp.services.observer.service import ObserverConfig, ObserverService
from acontext_mcp.services.observer.summaries import SummaryService
from acontext_mcp.services.observer.task_agent import TaskAgent
from acontext_mcp.services.observer.tasks import TaskService
from acontext_mcp.services.project_configs import ProjectConfigService
from acontext_mcp.services.session_copy import SessionCopier
from acontext_mcp.services.sessions import SessionService
from acontext_mcp.services.skill_agent import SkillAgent
from acontext_mcp.services.skills.service import SkillService
from acontext_mcp.services.spaces.index import SearchIndex
from acontext_mcp.services.spaces.search import SearchService
from acontext_mcp.services.spaces.search_agent import SearchAgent
from acontext_mcp.services.spaces.service import SpaceService
from acontext_mcp.services.users import UserService
from acontext_mcp.settings import Settings
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database
from acontext_mcp.store.engines import open_database
from acontext_mcp.store.migrations import migrate
from acontext_mcp.store.secrets import load_or_create_secret
from acontext_mcp.store.vectors import BlockIndex
from acontext_mcp.tokens import TokenCounter, open_counter

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Container:
    """Everything a running server needs, built once from settings.

    Open it with `async with Container.open(settings) as acx:`; the database is
    migrated before the services exist, and background loops (when an LLM is configured:
    the observer and the learner) run until the block ends.
    """

    settings: Settings
    db: Database
    sessions: SessionService
    messages: MessageService
    tasks: TaskService
    observer: ObserverService
    summaries: SummaryService
    metrics: MetricsService
    index: SearchIndex
    search: SearchService
    spaces: SpaceService
    learner: LearnerService
    disks: DiskService
    events: EventService
    copier: SessionCopier
    users: UserService
    project_configs: ProjectConfigService
    skills: SkillService
    capture: CaptureService
    logins: LoginService

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings, background: bool = True) -> AsyncIterator[Container]:
        """`background=False` starts no loops: for readers such as the dashboard command."""
        async with open_database(settings.database, **settings.database_timeouts) as db:
            await migrate(db)
            counter = open_counter(settings.tokenizer)
            await count_missing_tokens(db, counter)
            provider = provider_from_settings(settings)
            try:
                app = _build(settings, db, provider, counter)
                if background:  # bytes orphaned by a kill or a race since the last start
                    swept = await app.sessions.sweep_orphans()
                    if swept.removed_folders:
                        log.info("removed the blobs of %d deleted sessions", len(swept.removed_folders))
                loops = [
                    QueueLoop(app.observer, settings.observer_concurrency).run,
                    QueueLoop(app.learner, settings.learner_concurrency).run,
                ] if provider is not None and background else []
                if background:  # writes then need not wait on LanceDB or the embedding model
                    loops.append(app.index.run)
                async with running(*loops):
                    yield app
            finally:
                if provider is not None:
                    with anyio.CancelScope(shield=True):
                        await provider.aclose()


def _build(settings: Settings, db: Database, provider: ChatProvider | None, counter: TokenCounter) -> Container:
    """Wire the services, each after what it needs."""
    usage = LlmUsage(db)
    leases = Leases(db, settings.queue_lease_s)  # this process's claims on shared queue items

    def tool_loop(max_steps: int) -> ToolLoop | None:
        return ToolLoop(provider, usage, max_steps) if provider is not None else None

    learning = Signal()  # tasks turned learnable wake the learner, built further down
    tasks = TaskService(db, on_learnable=learning.notify)
    project_configs = ProjectConfigService(db)
    observer = ObserverService(
        db,
        tasks,
        usage,
        TaskAgent(provider, usage, settings.observer_max_steps) if provider else None,
        ObserverConfig(
            batch=settings.observer_batch,
            idle_s=settings.observer_idle_s,
            max_attempts=settings.observer_max_attempts,
            retry_base_s=settings.observer_retry_base_s,
        ),
        leases,
        settings.queue_poll_s,
        configs=project_configs,
    )
    blobs = BlobStore(settings.blobs_url)  # message parts over the blob threshold, read back by both services
    sessions = SessionService(db, blobs, max_metadata_bytes=settings.max_metadata_bytes)
    index = SearchIndex(
        db,
        BlockIndex(settings.search_index_uri, settings.embedding_provider, settings.embedding_model,
                   embedding_options(settings)),
        leases,
    )
    spaces = SpaceService(db, index, max_data_bytes=settings.max_message_bytes)
    agentic = tool_loop(settings.agentic_search_max_steps)
    search = SearchService(db, index, SearchAgent(agentic, spaces, index) if agentic else None)
    learning_loop = tool_loop(settings.learner_max_steps)
    learner = LearnerService(
        db,
        spaces,
        usage,
        SkillAgent(learning_loop, spaces, search) if learning_loop else None,
        RetryPolicy(settings.learner_max_attempts, settings.learner_retry_base_s),
        leases,
        settings.queue_poll_s,
        signal=learning,
    )
    disks = DiskService(
        db,
        BlobStore(settings.artifacts_url),
        max_artifact_bytes=settings.max_artifact_bytes,
        max_meta_bytes=settings.max_metadata_bytes,
        signer=_url_signer(settings),
        public_url_ttl_seconds=settings.public_url_ttl_seconds,
        presign=settings.presign_urls,
    )
    messages = MessageService(
        db,
        blobs,
        max_message_bytes=settings.max_message_bytes,
        blob_threshold_bytes=settings.blob_threshold_bytes,
        counter=counter,
        on_stored=lambda _session_id: observer.notify(),
        max_meta_bytes=settings.max_metadata_bytes,
        max_message_parts=settings.max_message_parts,
        scrub=scrub if settings.redact_stored else None,
    )
    return Container(
        settings=settings,
        db=db,
        sessions=sessions,
        messages=messages,
        tasks=tasks,
        observer=observer,
        summaries=SummaryService(sessions, observer, counter),
        metrics=MetricsService(db),
        index=index,
        search=search,
        spaces=spaces,
        learner=learner,
        disks=disks,
        events=EventService(db, max_data_bytes=settings.max_metadata_bytes),
        copier=SessionCopier(db, blobs),
        users=UserService(db, sessions, disks, spaces),
        project_configs=project_configs,
        skills=SkillService(db, spaces),
        capture=CaptureService(db, sessions, messages, spaces, hostname=socket.gethostname()),
        logins=LoginService(db, settings.dashboard_login_ttl_s),
    )


def provider_from_settings(settings: Settings) -> ChatProvider | None:
    """The configured provider, or None when no key and no base URL are set."""
    if not settings.llm_enabled:
        return None
    provider = OpenAICompatible(
        model=settings.llm_model,
        api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        base_url=settings.openai_base_url,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        retry_base_s=settings.llm_retry_base_s,
        tool_mode=settings.llm_tool_mode,
        max_tokens=settings.llm_max_tokens,
    )
    return ScrubbingProvider(provider) if settings.redact_secrets else provider


def embedding_options(settings: Settings) -> dict[str, str]:
    """The `openai` embedder uses the same endpoint and key as the LLM (OPENAI_BASE_URL, OPENAI_API_KEY)."""
    if settings.embedding_provider != "openai" or not settings.llm_enabled:
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
