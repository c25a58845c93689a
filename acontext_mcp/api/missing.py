"""Routes of the SDK this server does not answer (yet): each gives 501 and why, unless a module defines it."""

from __future__ import annotations

NO_SANDBOX = "this server has no sandbox: run code in your own environment and upload files as artifacts"
LATER = "not yet implemented by this server"
ONE_HOME = ("a skill lives in one learning space here (its pages are the skill): upload its zip to another space "
            "with POST /agent_skills and meta.space_id, or delete it with DELETE /agent_skills/{id}")

NOT_YET: list[tuple[str, str, str]] = [
    ("POST", "/sandbox", NO_SANDBOX),
    ("GET", "/sandbox/logs", NO_SANDBOX),
    ("DELETE", "/sandbox/{sandbox_id}", NO_SANDBOX),
    ("POST", "/sandbox/{sandbox_id}/exec", NO_SANDBOX),
    ("POST", "/disk/{disk_id}/artifact/download_to_sandbox", NO_SANDBOX),
    ("POST", "/disk/{disk_id}/artifact/upload_from_sandbox", NO_SANDBOX),
    ("POST", "/agent_skills/{skill_id}/download_to_sandbox", NO_SANDBOX),
    ("POST", "/learning_spaces/{space_id}/skills", f"include_skill: {ONE_HOME}"),
    ("DELETE", "/learning_spaces/{space_id}/skills/{skill_id}", f"exclude_skill: {ONE_HOME}"),
    ("GET", "/tool/name", f"tool renames: {LATER}"),
    ("PUT", "/tool/name", f"tool renames: {LATER}"),
]
