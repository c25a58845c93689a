"""Skills: each page of a space is an Agent Skill whose SKILL.md is rendered from the page and its entries.

Nothing is stored twice: the blocks are the skill; `skill_versions` (services/skills/history.py) keeps
what each change rendered to, so a skill's history can be read, diffed and rolled back (a rollback puts
the page's entries back as they were and is itself a version). Export writes one folder per skill to a
directory hosts load (e.g. `.claude/skills/`), file by file with atomic replaces, and records the
folders it made in `.acontext-skills.json` there: it never touches a folder it did not make. Import
reads skill folders (a folder, a folder of them, or a zip), checks them all, then writes them.
"""

from __future__ import annotations

import difflib
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

import anyio

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.formats.skill_md import check_name, parse, render
from acontext_mcp.projects import current_project
from acontext_mcp.services.skills.history import Change, skill_doc, skill_names, snapshot
from acontext_mcp.services.skills.models import (
    Skill,
    SkillDiff,
    SkillFile,
    SkillHistory,
    SkillList,
    SkillsExported,
    SkillsImported,
    SkillSummary,
    SkillVersion,
)
from acontext_mcp.services.spaces.service import SpaceService
from acontext_mcp.services.spaces.tree import fetch_space, load_blocks
from acontext_mcp.store.database import Database

SKILL_FILE = "SKILL.md"
MANIFEST = ".acontext-skills.json"
MAX_IMPORT_BYTES = 5 * 1024 * 1024  # uncompressed, per import
MAX_IMPORT_FILES = 500
MAX_SKILL_MD_BYTES = 256 * 1024
SKILL_HINT = "call list_skills to see the space's skills"


class SkillService:
    def __init__(self, db: Database, spaces: SpaceService) -> None:
        self._db = db
        self._spaces = spaces

    # Reading

    async def _current(self, space_id: str) -> list[tuple[str, Skill]]:
        """Every skill of the space with its page id, oldest page first."""
        await fetch_space(self._db, space_id)
        names = await skill_names(self._db, space_id)
        pages = await load_blocks(self._db, list(names))
        latest = {row["page_id"]: row["version"] for row in await self._db.fetch_all(
            "SELECT page_id, MAX(version) AS version FROM skill_versions WHERE space_id = ? GROUP BY page_id",
            (space_id,))}
        found: list[tuple[str, Skill]] = []
        for page_id, name in names.items():
            state = await snapshot(self._db, page_id)
            if state is None or page_id not in pages:
                continue
            doc = skill_doc(name, state)
            found.append((page_id, Skill(
                name=name, description=doc.description, page_id=page_id, path=pages[page_id].path,
                version=latest.get(page_id), updated_at=pages[page_id].updated_at, skill_md=render(doc),
                files=[SKILL_FILE],
            )))
        return found

    async def list_skills(self, space_id: str) -> SkillList:
        """The space's skills, oldest first. Raises `NotFound` for an unknown space."""
        return SkillList(space_id=space_id, items=[
            SkillSummary.model_validate(skill.model_dump(exclude={"skill_md", "files"}))
            for _, skill in await self._current(space_id)
        ])

    async def get_skill(self, space_id: str, name: str, version: int | None = None) -> Skill:
        """One skill with its SKILL.md, now or as it was at `version`. Raises `NotFound` (space, skill, version)."""
        for _, skill in await self._current(space_id):
            if skill.name == name:
                if version is not None:
                    skill.skill_md = await self.version_md(space_id, name, version)
                    skill.version = version
                return skill
        raise NotFound("skill", name, SKILL_HINT)

    async def get_skill_file(self, space_id: str, name: str, path: str) -> SkillFile:
        """A file of a skill's folder. Raises `NotFound` (space, skill, file)."""
        skill = await self.get_skill(space_id, name)
        if path.strip("/") != SKILL_FILE:
            raise NotFound("file", path, f"skill {name!r} has the files {', '.join(skill.files)}")
        return SkillFile(name=name, path=SKILL_FILE, content=skill.skill_md)

    async def find(self, page_id: str) -> tuple[str, Skill]:
        """A skill by its page id, in any of the current project's spaces: (space id, skill).

        Raises `NotFound`.
        """
        row = await self._db.fetch_one(
            "SELECT b.space_id FROM blocks b JOIN spaces s ON s.id = b.space_id "
            "WHERE b.id = ? AND b.type = 'page' AND s.project_id = ?", (page_id, current_project()))
        if row is None:
            raise NotFound("skill", page_id, "list the skills to see their ids")
        space_id: str = row["space_id"]
        return space_id, next(skill for pid, skill in await self._current(space_id) if pid == page_id)

    async def catalog(self) -> list[tuple[str, Skill]]:
        """Every skill of the current project's spaces, oldest space first: (space id, skill)."""
        found: list[tuple[str, Skill]] = []
        for space in (await self._spaces.list_spaces()).items:
            found += [(space.id, skill) for _, skill in await self._current(space.id)]
        return found

    async def import_zip(self, space_id: str, data: bytes, filename: str = "upload.zip") -> SkillsImported:
        """`import_skills` from a zip's bytes (an upload)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / (Path(filename).name or "upload.zip")
            await anyio.Path(path).write_bytes(data)
            return await self.import_skills(space_id, path)

    # History

    async def _page_of(self, space_id: str, name: str) -> str:
        """The page that is (or, once deleted, was last) the skill called `name`."""
        await fetch_space(self._db, space_id)
        for current_page, current in (await skill_names(self._db, space_id)).items():
            if current == name:
                return current_page
        row = await self._db.fetch_one(
            "SELECT page_id FROM skill_versions WHERE space_id = ? AND name = ? ORDER BY created_at DESC, version DESC "
            "LIMIT 1", (space_id, name))
        if row is None:
            raise NotFound("skill", name, SKILL_HINT)
        page_id: str = row["page_id"]
        return page_id

    async def history(self, space_id: str, name: str) -> SkillHistory:
        """Every version of a skill, newest first. Raises `NotFound` (space, skill)."""
        page_id = await self._page_of(space_id, name)
        rows = await self._db.fetch_all(
            "SELECT * FROM skill_versions WHERE page_id = ? ORDER BY version DESC", (page_id,))
        return SkillHistory(space_id=space_id, name=name, page_id=page_id, versions=[
            SkillVersion(version=r["version"], name=r["name"], author=r["author"], reason=r["reason"],
                         task_id=r["task_id"], session_id=r["session_id"], created_at=r["created_at"])
            for r in rows])

    async def version_md(self, space_id: str, name: str, version: int) -> str:
        """The SKILL.md a version recorded. Raises `NotFound` (space, skill, version)."""
        return str((await self._version(space_id, name, version))["skill_md"])

    async def _version(self, space_id: str, name: str, version: int) -> Any:
        page_id = await self._page_of(space_id, name)
        row = await self._db.fetch_one(
            "SELECT * FROM skill_versions WHERE page_id = ? AND version = ?", (page_id, version))
        if row is None:
            raise NotFound("version", str(version), f"call skill_history(name={name!r}) to see its versions")
        return row

    async def diff(self, space_id: str, name: str, from_version: int, to_version: int | None = None) -> SkillDiff:
        """A unified diff of SKILL.md from one version to another (default: the latest).

        Raises `NotFound` (space, skill, version).
        """
        if to_version is None:
            latest = (await self.history(space_id, name)).versions
            to_version = latest[0].version if latest else from_version
        before = await self.version_md(space_id, name, from_version)
        after = await self.version_md(space_id, name, to_version)
        lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                     f"{name}/{SKILL_FILE}@v{from_version}", f"{name}/{SKILL_FILE}@v{to_version}")
        return SkillDiff(name=name, from_version=from_version, to_version=to_version, diff="".join(lines))

    async def rollback(self, space_id: str, name: str, version: int, reason: str | None = None) -> SkillVersion:
        """Put a skill back as it was at `version`; the result is a new version with the same SKILL.md.

        Raises `NotFound` (space, skill, version, or the page is deleted).
        """
        row = await self._version(space_id, name, version)
        await self._spaces.restore_page(
            space_id, row["page_id"], json.loads(row["snapshot"]),
            Change("rollback", reason or f"rolled back to version {version}"),
        )
        return (await self.history(space_id, row["name"])).versions[0]

    # Out to hosts

    async def zip_skill(self, space_id: str, name: str) -> bytes:
        """The skill's folder as a zip (`name/SKILL.md`). Raises `NotFound` (space, skill)."""
        skill = await self.get_skill(space_id, name)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{name}/{SKILL_FILE}", skill.skill_md)
        return buffer.getvalue()

    async def export(self, space_id: str, to: Path) -> SkillsExported:
        """Write the space's skills to `to`, one folder each, changing only what changed.

        Folders another program (or another space) made are skipped; folders this space's export made
        whose skill is gone are removed. Raises `NotFound` (space), `InvalidArgument` (`to` is a file).
        """
        skills = [skill for _, skill in await self._current(space_id)]
        return await anyio.to_thread.run_sync(_write_folders, space_id, to, skills)

    async def sync(self, space_id: str, to: Path, poll_s: float = 0.5,
                   on_export: Callable[[SkillsExported], None] | None = None) -> None:
        """Keep `to` current with the space's skills until cancelled: export, then again whenever a skill
        changes (a new version, or a page added or deleted)."""
        seen: tuple[Any, ...] | None = None
        while True:
            state = await self._state(space_id)
            if state != seen:
                exported = await self.export(space_id, to)
                seen = state
                if on_export is not None:
                    on_export(exported)
            await anyio.sleep(poll_s)

    async def _state(self, space_id: str) -> tuple[Any, ...]:
        versions = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, MAX(created_at) AS at FROM skill_versions WHERE space_id = ?", (space_id,))
        pages = await self._db.fetch_one(
            "SELECT COUNT(*) AS n, MAX(updated_at) AS at FROM blocks WHERE space_id = ? AND type = 'page'",
            (space_id,))
        await fetch_space(self._db, space_id)
        return (versions["n"] if versions else 0, versions["at"] if versions else None,
                pages["n"] if pages else 0, pages["at"] if pages else None)

    # In from hosts

    async def import_skills(self, space_id: str, source: Path, folder: str = "/") -> SkillsImported:
        """Import skill folders (`source` is one, a folder of them, or a .zip of either) as pages under `folder`.

        Every SKILL.md is checked before anything is written. A skill whose name the space has already is
        updated (its page's name, description, body and optional fields); each import is a version.
        Raises `NotFound` (space, source), `InvalidArgument` (no SKILL.md, bad front matter, a name that
        differs from its folder, unsafe zip paths), over the import limits.
        """
        await fetch_space(self._db, space_id)
        files = await anyio.to_thread.run_sync(_read_source, source)
        parsed, ignored = _skills_in(files)
        names = {name: page_id for page_id, name in (await skill_names(self._db, space_id)).items()}
        change = Change("import", f"imported from {source.name}")
        imported: list[SkillSummary] = []
        for name, (meta, body) in parsed.items():
            data = {**{k: v for k, v in meta.items() if k != "name"}, "name": name, "body": body.strip()}
            if name in names:
                await self._spaces.update_block(space_id, names[name], data=data, change=change)
            else:
                parent = folder if folder.strip("/") else "/"
                await self._spaces.create_block(space_id, parent, "page", name, data, change=change)
            imported.append(SkillSummary.model_validate(
                (await self.get_skill(space_id, name)).model_dump(exclude={"skill_md", "files"})))
        return SkillsImported(space_id=space_id, imported=imported, ignored_files=ignored)


def _read_source(source: Path) -> dict[str, bytes]:
    """The files of a skill source by relative POSIX path, bounded in count and size."""
    if not source.exists():
        raise NotFound("path", str(source), "give a skill folder, a folder of skill folders, or a .zip")
    total = 0
    files: dict[str, bytes] = {}

    def add(path: str, read: Callable[[int], bytes]) -> None:
        nonlocal total
        if len(files) >= MAX_IMPORT_FILES:
            raise InvalidArgument(f"the import has over {MAX_IMPORT_FILES} files; import fewer skills at a time; "
                                  "nothing was imported")
        data = read(MAX_IMPORT_BYTES - total + 1)
        total += len(data)
        if total > MAX_IMPORT_BYTES:
            raise InvalidArgument(f"the import unpacks to over {MAX_IMPORT_BYTES} bytes (a zip bomb, or too many "
                                  "skills at once); nothing was imported")
        files[path] = data

    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise InvalidArgument(f"{source.name} is neither a folder nor a zip; give a skill folder or a .zip")
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    continue
                name = info.filename.replace("\\", "/")
                parts = PurePosixPath(name).parts
                if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
                    raise InvalidArgument(f"zip entry {info.filename!r} has an unsafe path; nothing was imported")
                with archive.open(info) as handle:
                    add(name, handle.read)
        return files
    base = source.parent if (source / SKILL_FILE).is_file() else source
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as handle:
                add(path.relative_to(base).as_posix(), handle.read)
    return files


def _skills_in(files: dict[str, bytes]) -> tuple[dict[str, tuple[dict[str, Any], str]], list[str]]:
    """The skills among the files (`folder/SKILL.md`), checked, and the other files."""
    skills: dict[str, tuple[dict[str, Any], str]] = {}
    ignored: list[str] = []
    for path, data in files.items():
        parts = PurePosixPath(path).parts
        if parts[-1] != SKILL_FILE:
            ignored.append(path)
            continue
        if len(data) > MAX_SKILL_MD_BYTES:
            raise InvalidArgument(f"{path} is {len(data)} bytes, over the limit of {MAX_SKILL_MD_BYTES} for a "
                                  "SKILL.md; nothing was imported")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(f"{path} is not UTF-8 text; nothing was imported") from None
        try:
            meta, body = parse(text)
            folder = parts[-2] if len(parts) > 1 else str(meta["name"])  # a zip may hold SKILL.md at its top
            check_name(folder, f"folder name of {path}")
        except InvalidArgument as exc:
            raise InvalidArgument(f"{path}: {exc}; nothing was imported") from None
        if meta["name"] != folder:
            raise InvalidArgument(f"{path}: name {meta['name']!r} differs from its folder {folder!r}; the spec "
                                  "wants them equal; nothing was imported")
        if folder in skills:
            raise InvalidArgument(f"two skills are called {folder!r}; nothing was imported")
        skills[folder] = (meta, body)
    if not skills:
        raise InvalidArgument("no SKILL.md found: a skill is a folder holding a SKILL.md; nothing was imported")
    return skills, ignored


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a reader (or a crash) sees the old file or the new one, never a part."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_folders(space_id: str, to: Path, skills: list[Skill]) -> SkillsExported:
    if to.exists() and not to.is_dir():
        raise InvalidArgument(f"{to} is a file; give a directory to export the skills to")
    to.mkdir(parents=True, exist_ok=True)
    manifest_path = to / MANIFEST
    try:
        owned: dict[str, str] = json.loads(manifest_path.read_text()).get("skills", {})
    except FileNotFoundError:
        owned = {}
    except (ValueError, AttributeError):
        raise InvalidArgument(f"{manifest_path} is not a manifest this server wrote; move it away") from None
    result = SkillsExported(space_id=space_id, to=str(to))
    for skill in skills:
        folder = to / skill.name
        if owned.get(skill.name) not in (None, space_id) or (folder.exists() and skill.name not in owned):
            result.skipped.append(skill.name)
            continue
        owned[skill.name] = space_id
        _write_atomic(manifest_path, json.dumps({"skills": owned}, indent=2, sort_keys=True).encode())
        folder.mkdir(exist_ok=True)
        for stale in folder.glob(".*.tmp"):  # left by a crash mid-write
            stale.unlink(missing_ok=True)
        target = folder / SKILL_FILE
        data = skill.skill_md.encode()
        if target.is_file() and target.read_bytes() == data:
            result.unchanged.append(skill.name)
            continue
        _write_atomic(target, data)
        result.written.append(skill.name)
    current = {s.name for s in skills}
    for name, owner in sorted(owned.items()):
        if owner == space_id and name not in current:
            shutil.rmtree(to / name, ignore_errors=True)
            del owned[name]
            result.removed.append(name)
    _write_atomic(manifest_path, json.dumps({"skills": owned}, indent=2, sort_keys=True).encode())
    return result
