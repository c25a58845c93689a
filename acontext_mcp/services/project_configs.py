"""Project configs: settings a project keeps for itself, such as the criteria its observer uses to decide
that a task succeeded or failed."""

from __future__ import annotations

import json
from typing import Any

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.projects import current_project
from acontext_mcp.services.models import ProjectConfigs
from acontext_mcp.store.database import Database, utc_now

MAX_CRITERIA_CHARS = 2000
KNOWN = tuple(ProjectConfigs.model_fields)


class ProjectConfigService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_configs(self) -> ProjectConfigs:
        """The current project's configs (unset ones are None)."""
        row = await self._db.fetch_one("SELECT configs FROM project_configs WHERE project_id = ?",
                                       (current_project(),))
        return ProjectConfigs.model_validate(json.loads(row["configs"]) if row else {})

    async def update_configs(self, changes: dict[str, Any]) -> ProjectConfigs:
        """Merge `changes` into the configs: each key is set, or reset when its value is None.

        Raises `InvalidArgument` for an unknown key or a criterion that is not text of at most 2,000 characters.
        """
        if not isinstance(changes, dict):
            raise InvalidArgument("configs must be a JSON object")
        for key, value in changes.items():
            if key not in KNOWN:
                raise InvalidArgument(f"unknown project config {key!r}; known: {', '.join(KNOWN)}")
            if value is not None and (not isinstance(value, str) or len(value) > MAX_CRITERIA_CHARS):
                raise InvalidArgument(f"{key} must be text of at most {MAX_CRITERIA_CHARS} characters (or null to "
                                      "reset it)")
        async with self._db.transaction() as tx:
            await tx.lock(f"project-configs:{current_project()}")
            row = await tx.fetch_one("SELECT configs FROM project_configs WHERE project_id = ?",
                                     (current_project(),))
            merged = {k: v for k, v in {**(json.loads(row["configs"]) if row else {}), **changes}.items()
                      if v is not None}
            encoded = json.dumps(merged, ensure_ascii=False)
            if row is None:
                await tx.execute("INSERT INTO project_configs (project_id, configs, updated_at) VALUES (?, ?, ?)",
                                 (current_project(), encoded, utc_now()))
            else:
                await tx.execute("UPDATE project_configs SET configs = ?, updated_at = ? WHERE project_id = ?",
                                 (encoded, utc_now(), current_project()))
        return ProjectConfigs.model_validate(merged)
