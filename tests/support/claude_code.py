"""Run the real Claude Code CLI offline: a temporary HOME, the scripted Anthropic server as its API.

    claude = claude_code_binary()                 # installs the pinned package once (scripts/claude-code)
    with ScriptedAnthropic() as fake:
        fake.reply(text("hi"))
        run = ClaudeCode(claude, home, fake.base_url)
        result = run("Say hi", cwd=project, settings=settings_file)
        run.transcripts()                         # the .jsonl files it wrote under $HOME/.claude/projects
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).parents[2] / "scripts" / "claude-code"
RUN_TIMEOUT = 180.0  # a deadline for a loaded 2-core machine; a run takes a few seconds


def claude_code_binary() -> Path:
    """The `claude` command, installed by scripts/claude-code into its cache dir; skip when that fails."""
    result = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"scripts/claude-code failed: {result.stderr[-2000:]}")
        pytest.skip(f"Claude Code could not be installed: {result.stderr.strip()[-300:]}")
    return Path(result.stdout.strip().splitlines()[-1])


@dataclass
class ClaudeCode:
    binary: Path
    home: Path
    base_url: str
    extra_env: dict[str, str] | None = None

    def env(self) -> dict[str, str]:
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "CLAUDE", "ACONTEXT_"))}
        return {**kept, "HOME": str(self.home), "ANTHROPIC_BASE_URL": self.base_url, "ANTHROPIC_API_KEY": "sk-test",
                "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1",
                **(self.extra_env or {})}

    def __call__(self, prompt: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.binary), "-p", prompt, "--allowedTools", "Bash", *args],
            cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=RUN_TIMEOUT, stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (
            f"claude exited {result.returncode}: {result.stdout[-1000:]} {result.stderr[-2000:]}")
        return result

    def transcripts(self) -> list[Path]:
        return sorted((self.home / ".claude" / "projects").rglob("*.jsonl"))


def write_settings(path: Path, settings: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    return path


def git_project(path: Path, branch: str = "feature-x") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", branch, str(path)], check=True)
    return path
