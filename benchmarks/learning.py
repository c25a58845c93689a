"""What the observer and learner learn from labelled sessions with a real model (not run by default).

    scripts/local-model 0.5b &        # or 1.5b; serves http://127.0.0.1:8089/v1
    .venv/bin/python -m benchmarks.learning --base-url http://127.0.0.1:8089/v1 --model local \
        [--tool-mode json_schema] [--sessions 2] [--json benchmarks/learning.json]

Each labelled session goes through the real pipeline (messages -> observer -> tasks -> learner -> SOP
blocks -> search index) against the model at `--base-url`; then it is scored against its labels:

- task-description F1: an extracted task matches an expected one when it holds at least half of
  that task's keywords (case-insensitive); matching is one-to-one, in order.
- status accuracy: matched tasks whose status is the expected one.
- preference recall: expected preferences whose keywords (at least half) appear in some stored preference.
- learn/skip accuracy: "learn" sessions must end with a learned SOP, "skip" sessions without one.
- useful vs junk skills: a learned SOP is useful when its `use_when` has at least 4 words, it has at
  least one step, every step's `tool_name` is a tool the transcript called (or empty, for a plain
  step), and no step's action is shorter than 3 letters; otherwise junk (with the reason).
- found again: `experience_search` (fast mode) for a paraphrase puts the learned block in its top 3.
Also LLM calls, prompt and completion tokens (from `llm_calls`) and seconds per session.
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import anyio

from acontext_mcp import Container, Settings
from tests.fakes.openai_server import Reply, ScriptedOpenAI


def call(cid: str, name: str, **arguments: Any) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


@dataclass(frozen=True)
class Labelled:
    name: str
    messages: list[dict[str, Any]]
    tasks: list[tuple[str, str]]  # (keywords of the description, expected status)
    preferences: list[str]  # keywords of each stated preference
    outcome: str  # "learn" or "skip"
    paraphrase: str = ""  # a search that should find the learned skill
    format: str = "openai"


SESSIONS: list[Labelled] = [
    Labelled(
        "landing page (coding, preference)",
        [
            {"role": "user", "content": "Build a landing page for our coffee subscription with Tailwind in one "
                                        "index.html. Keep the header plain white, no shadows."},
            {"role": "assistant", "content": "Writing index.html with the header.",
             "tool_calls": [call("c1", "write_file", path="index.html", content="<header class='bg-white'>")]},
            {"role": "tool", "tool_call_id": "c1", "content": "wrote 412 bytes to index.html"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c2", "open_browser", url="file:///site/index.html")]},
            {"role": "tool", "tool_call_id": "c2", "content": "<header class='bg-white'>Coffee Club</header>"},
            {"role": "assistant", "content": "The landing page is done and renders correctly."},
            {"role": "user", "content": "Perfect, thanks."},
        ],
        tasks=[("landing page coffee subscription", "success")],
        preferences=["header plain white no shadows"],
        outcome="learn",
        paraphrase="make a marketing page for a subscription product with tailwind",
    ),
    Labelled(
        "csv cleanup (data work)",
        [
            {"role": "user", "content": "Remove duplicate rows from sales.csv and save it as sales_clean.csv."},
            {"role": "assistant", "content": "Loading the file with pandas.",
             "tool_calls": [call("d1", "run_python", code="df=pd.read_csv('sales.csv');df.drop_duplicates()"
                                                          ".to_csv('sales_clean.csv',index=False)")]},
            {"role": "tool", "tool_call_id": "d1", "content": "ok: 1,204 rows -> 1,150 rows"},
            {"role": "assistant", "content": "Done: 54 duplicate rows removed, saved to sales_clean.csv."},
            {"role": "user", "content": "Thanks, that's right."},
        ],
        tasks=[("remove duplicate rows sales", "success")],
        preferences=[],
        outcome="learn",
        paraphrase="deduplicate a spreadsheet export",
    ),
    Labelled(
        "flight search (browsing, failed)",
        [
            {"role": "user", "content": "Find the cheapest flight from Oslo to Rome on 12 March."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("b1", "open_browser", url="https://flights.example/search?from=OSL&to=FCO")]},
            {"role": "tool", "tool_call_id": "b1", "content": "error: 403 Forbidden (bot check)"},
            {"role": "assistant", "content": "The flight site blocks automated access, so I could not "
                                             "find the flight."},
            {"role": "user", "content": "Ok, never mind, I'll do it myself."},
        ],
        tasks=[("cheapest flight oslo rome", "failed")],
        preferences=[],
        outcome="skip",
    ),
    Labelled(
        "greeting (too trivial)",
        [
            {"role": "user", "content": "What time zone is Tokyo in?"},
            {"role": "assistant", "content": "Tokyo uses Japan Standard Time, UTC+9."},
            {"role": "user", "content": "Thanks!"},
        ],
        tasks=[],
        preferences=[],
        outcome="skip",
    ),
    Labelled(
        "bug fix (coding, Anthropic format, preference)",
        [
            {"role": "user", "content": [{"type": "text", "text": "The test test_parse_date fails on leap "
                                          "years; fix it. Please use pytest only, no unittest."}]},
            {"role": "assistant", "content": [
                {"type": "text", "text": "Running the test first."},
                {"type": "tool_use", "id": "t1", "name": "run_shell", "input": {"cmd": "pytest -k parse_date"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                          "content": "FAILED test_parse_date: day is out of range for month"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t2", "name": "edit_file",
                 "input": {"path": "dates.py", "old": "day=29", "new": "day=calendar.monthrange(y, 2)[1]"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t2", "content": "edited dates.py"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t3", "name": "run_shell", "input": {"cmd": "pytest -k parse_date"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t3", "content": "1 passed"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Fixed: the leap-year test passes now."}]},
        ],
        tasks=[("fix test_parse_date leap", "success")],
        preferences=["pytest only no unittest"],
        outcome="learn",
        paraphrase="repair a failing date test for february 29",
        format="anthropic",
    ),
]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9_]+", text.lower()))


def covers(text: str, keywords: str) -> bool:
    wanted = words(keywords)
    return len(wanted & words(text)) * 2 >= len(wanted)


def tools_called(labelled: Labelled) -> set[str]:
    names = set()
    for message in labelled.messages:
        for c in message.get("tool_calls") or []:
            names.add(c["function"]["name"])
        for block in message["content"] if isinstance(message.get("content"), list) else []:
            if block.get("type") == "tool_use":
                names.add(block["name"])
    return names


def judge_sop(data: dict[str, Any], used: set[str]) -> str:
    """"useful" or "junk: <reason>", by the checks in the module docstring."""
    steps = data.get("tool_sops") or []
    if len(str(data.get("use_when") or "").split()) < 4:
        return "junk: use_when under 4 words"
    if not steps:
        return "junk: no steps"
    for step in steps:
        if step.get("tool_name") and step["tool_name"] not in used:
            return f"junk: step tool {step['tool_name']!r} never called in the session"
        if len(re.findall(r"[A-Za-z]", str(step.get("action") or ""))) < 3:
            return f"junk: step action {step.get('action')!r}"
    return "useful"


@dataclass
class Score:
    session: str
    expected_tasks: int
    extracted_tasks: int
    matched_tasks: int
    status_right: int
    preferences_expected: int
    preferences_found: int
    expected_outcome: str
    outcome: str
    skills: list[str] = field(default_factory=list)  # "useful" / "junk: ..."
    found_again: list[bool] = field(default_factory=list)
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    extracted: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def score_session(settings: Settings, labelled: Labelled, timeout_s: float) -> Score:
    start = time.perf_counter()
    async with Container.open(settings) as acx:
        space = await acx.spaces.create_space(f"bench-{labelled.name.split()[0]}")
        session = await acx.sessions.create_session(space_id=space.id)
        for message in labelled.messages:
            await acx.messages.send_message(session.id, message, format=labelled.format)
        errors = []
        try:
            await acx.observer.flush(session.id, timeout_s=timeout_s)
        except Exception as exc:  # a benchmark reports, it does not stop
            errors.append(f"observer: {exc}")
        board = await acx.observer.get_tasks(session.id)
        tasks = board.items
        if board.observer.last_error:
            errors.append(f"observer last error: {board.observer.last_error}")
        try:
            items = (await acx.learner.flush(space.id, None, timeout_s=timeout_s)).items
        except Exception as exc:
            errors.append(f"learner: {exc}")
            items = []
        learned = [i for i in items if i.status == "learned" and i.block_id]
        used = tools_called(labelled)
        skills, found = [], []
        for item in learned:
            block = await acx.spaces.get_block(space.id, item.block_id or "")
            skills.append(judge_sop(dict(block.data), used))
            if labelled.paraphrase:
                hits = await acx.search.experience_search(space.id, labelled.paraphrase, limit=3)
                found.append(item.block_id in [c.block_id for c in hits.cited_blocks])
        errors += [f"learner item {i.status}: {i.last_error or i.skip_reason}" for i in items
                   if i.status != "learned" and (i.last_error or i.skip_reason)]
        usage = await acx.db.fetch_one(
            "SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt, "
            "COALESCE(SUM(completion_tokens), 0) AS completion FROM llm_calls")
    unmatched = list(tasks)
    matched = status_right = 0
    for keywords, status in labelled.tasks:
        hit = next((t for t in unmatched if covers(t.data.task_description, keywords)), None)
        if hit is not None:
            unmatched.remove(hit)
            matched += 1
            status_right += hit.status == status
    stored_preferences = " | ".join(p for t in tasks for p in t.data.user_preferences)
    prefs_found = sum(covers(stored_preferences, p) for p in labelled.preferences)
    assert usage is not None
    return Score(
        session=labelled.name, expected_tasks=len(labelled.tasks), extracted_tasks=len(tasks),
        matched_tasks=matched, status_right=status_right, preferences_expected=len(labelled.preferences),
        preferences_found=prefs_found, expected_outcome=labelled.outcome, outcome="learn" if learned else "skip",
        skills=skills, found_again=found, llm_calls=usage["calls"], prompt_tokens=usage["prompt"],
        completion_tokens=usage["completion"], seconds=round(time.perf_counter() - start, 1),
        extracted=[{"description": t.data.task_description, "status": t.status,
                    "preferences": t.data.user_preferences} for t in tasks],
        errors=errors,
    )


def summary(scores: list[Score]) -> list[tuple[str, str]]:
    expected = sum(s.expected_tasks for s in scores)
    extracted = sum(s.extracted_tasks for s in scores)
    matched = sum(s.matched_tasks for s in scores)
    precision = matched / extracted if extracted else 0.0
    recall = matched / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    skills = [k for s in scores for k in s.skills]
    found = [f for s in scores for f in s.found_again]
    prefs = sum(s.preferences_expected for s in scores)
    n = len(scores)
    per = max(n, 1)
    return [
        ("sessions", str(n)),
        ("tasks extracted / expected (matched)", f"{extracted} / {expected} ({matched})"),
        ("task-description F1", f"{f1:.2f}"),
        ("status accuracy (matched tasks)", f"{sum(s.status_right for s in scores)}/{matched}"),
        ("preference recall", f"{sum(s.preferences_found for s in scores)}/{prefs}"),
        ("learn/skip accuracy", f"{sum(s.outcome == s.expected_outcome for s in scores)}/{n}"),
        ("skills created (useful / junk)", f"{len(skills)} ({skills.count('useful')} / "
                                           f"{len(skills) - skills.count('useful')})"),
        ("learned skill found by experience_search (top 3)", f"{sum(found)}/{len(found)}"),
        ("LLM calls per session", f"{sum(s.llm_calls for s in scores) / per:.1f}"),
        ("prompt / completion tokens per session",
         f"{sum(s.prompt_tokens for s in scores) // per} / {sum(s.completion_tokens for s in scores) // per}"),
        ("seconds per session", f"{sum(s.seconds for s in scores) / per:.0f}"),
    ]


class Recorder:
    """A loopback relay to the real endpoint that writes each request's last messages and the raw answer
    to a JSON-lines file (`--trace`), to see what the model did."""

    def __init__(self, base_url: str, path: Path) -> None:
        self._target = base_url.rstrip("/") + "/chat/completions"
        self._path = path

    def __call__(self, request: dict[str, Any]) -> Reply:
        sent = urllib.request.Request(self._target, data=json.dumps(request).encode(),
                                      headers={"content-type": "application/json"})
        with urllib.request.urlopen(sent, timeout=3600) as answer:  # noqa: S310 - a URL the user gave
            raw = answer.read().decode()
        reply = json.loads(raw)["choices"][0]["message"]
        with self._path.open("a") as trace:
            trace.write(json.dumps({"last_messages": request["messages"][-2:], "reply": reply}) + "\n")
        return {"raw": raw}


async def run_all(args: argparse.Namespace) -> list[Score]:
    scores = []
    with ExitStack() as stack:
        base_url = args.base_url
        if args.trace:
            base_url = stack.enter_context(ScriptedOpenAI(responder=Recorder(args.base_url, args.trace))).base_url
        for i, labelled in enumerate(SESSIONS[: args.sessions]):
            scores.append(await run_one(args, base_url, i, labelled))
    return scores


async def run_one(args: argparse.Namespace, base_url: str, i: int, labelled: Labelled) -> Score:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / f"s{i}", openai_base_url=base_url, llm_model=args.model,
            llm_tool_mode=args.tool_mode, llm_timeout_s=args.call_timeout, observer_idle_s=0.5,
            observer_max_attempts=1, llm_max_retries=0)
        score = await score_session(settings, labelled, args.timeout)
    print(json.dumps(asdict(score)), flush=True)
    return score


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.learning", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8089/v1")
    parser.add_argument("--model", default="local")
    parser.add_argument("--tool-mode", default="json_schema", choices=("auto", "native", "json_schema"))
    parser.add_argument("--sessions", type=int, default=len(SESSIONS), help="score only the first N sessions")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds the observer and learner each get")
    parser.add_argument("--call-timeout", type=float, default=900.0, help="seconds one LLM call may take")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores here")
    parser.add_argument("--trace", type=Path, default=None, help="append every request's tail and reply here")
    args = parser.parse_args()
    scores = anyio.run(run_all, args)
    print(f"\nModel {args.model} at {args.base_url}, tool mode {args.tool_mode}\n")
    print("| metric | value |\n|---|---|")
    for metric, value in summary(scores):
        print(f"| {metric} | {value} |")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "scores": [asdict(s) for s in scores],
                                         "summary": dict(summary(scores))}, indent=2) + "\n")


if __name__ == "__main__":
    main()
