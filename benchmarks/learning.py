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
- learn/skip accuracy: "learn" sessions must end with a learned SOP, "warning" sessions (a failed task
  with a lesson) with a learned warning and no SOP, "skip" sessions with neither.
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
    outcome: str  # "learn" (an SOP), "warning" (a failed task's lesson) or "skip" (nothing learned)
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
    Labelled(
        "revenue report (data work, SQL, preference)",
        [
            {"role": "user", "content": "Give me last month's revenue per region from the orders table. "
                                        "Show the result as a markdown table, please."},
            {"role": "assistant", "content": "Checking the table's columns first.",
             "tool_calls": [call("r1", "run_sql", query="SELECT column_name FROM information_schema.columns "
                                                         "WHERE table_name = 'orders'")]},
            {"role": "tool", "tool_call_id": "r1", "content": "id, region, amount, created_at"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("r2", "run_sql", query="SELECT region, SUM(amount) FROM orders WHERE created_at "
                                                         ">= date_trunc('month', now()) - interval '1 month' AND "
                                                         "created_at < date_trunc('month', now()) GROUP BY region")]},
            {"role": "tool", "tool_call_id": "r2", "content": "EU 41200\nUS 55870\nAPAC 19340"},
            {"role": "assistant", "content": "| region | revenue |\n|---|---|\n| EU | 41,200 |\n| US | 55,870 |\n"
                                             "| APAC | 19,340 |"},
            {"role": "user", "content": "Great, exactly what I needed."},
        ],
        tasks=[("revenue per region last month", "success")],
        preferences=["markdown table"],
        outcome="learn",
        paraphrase="sum sales by region for the previous month in sql",
    ),
    Labelled(
        "pandas upgrade (coding, failed, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "Upgrade pandas to 3.0 in this project and make "
                                          "sure the tests still pass."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "u1", "name": "run_shell", "input": {"cmd": "pip install 'pandas==3.0'"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "u1", "content":
                                          "ERROR: Cannot install pandas==3.0 because statsmodels 0.13 requires "
                                          "pandas<2.0"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "u2", "name": "run_shell",
                 "input": {"cmd": "pip install 'pandas==3.0' 'statsmodels>=0.15'"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "u2", "content":
                                          "ERROR: statsmodels>=0.15 requires scipy>=1.14, which conflicts with the "
                                          "pinned scipy==1.9"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "The upgrade is blocked by pinned "
                                               "statsmodels and scipy versions; I could not upgrade pandas."}]},
            {"role": "user", "content": [{"type": "text", "text": "OK, stop there, we'll leave pandas as it is."}]},
        ],
        tasks=[("upgrade pandas", "failed")],
        preferences=[],
        outcome="warning",
        format="anthropic",
    ),
    Labelled(
        "rename variable (coding, too trivial)",
        [
            {"role": "user", "content": "Rename the variable tmp to total in utils.py."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("v1", "edit_file", path="utils.py", old="tmp", new="total")]},
            {"role": "tool", "tool_call_id": "v1", "content": "edited utils.py (3 replacements)"},
            {"role": "assistant", "content": "Renamed tmp to total in utils.py."},
        ],
        tasks=[("rename variable tmp total", "success")],
        preferences=[],
        outcome="skip",
    ),
    Labelled(
        "price scrape (browsing, preference, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "Collect the names and prices of all laptops on "
                                          "shop.example/laptops into laptops.csv. Use semicolons as the separator."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "p1", "name": "open_browser", "input": {"url": "https://shop.example/laptops"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "p1",
                                          "content": "page loaded: 12 products, 2 pages"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "p2", "name": "extract_text",
                 "input": {"selector": ".product .name, .product .price", "all_pages": True}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "p2",
                                          "content": "24 items: ThinkPad X1 | 1499 ... MacBook Air | 1199"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "p3", "name": "write_file",
                 "input": {"path": "laptops.csv", "content": "name;price\nThinkPad X1;1499\n..."}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "p3",
                                          "content": "wrote laptops.csv"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Saved 24 laptops with prices to "
                                               "laptops.csv."}]},
            {"role": "user", "content": [{"type": "text", "text": "Thanks!"}]},
        ],
        tasks=[("laptops prices laptops.csv", "success")],
        preferences=["semicolons separator"],
        outcome="learn",
        paraphrase="scrape product names and prices from a web shop into a csv",
        format="anthropic",
    ),
    Labelled(
        "small talk (too trivial, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "Hi! How's your day going?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Going well, thanks! What can I help "
                                               "you with?"}]},
            {"role": "user", "content": [{"type": "text", "text": "Nothing yet, just saying hello."}]},
        ],
        tasks=[],
        preferences=[],
        outcome="skip",
        format="anthropic",
    ),
    Labelled(
        "rebase conflict (coding)",
        [
            {"role": "user", "content": "Rebase my branch feature/login on main and fix any conflicts."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("g1", "run_shell", cmd="git fetch origin && git rebase origin/main")]},
            {"role": "tool", "tool_call_id": "g1", "content": "CONFLICT (content): Merge conflict in auth.py"},
            {"role": "assistant", "content": "One conflict in auth.py; keeping both the new token check and "
                                             "main's logging.",
             "tool_calls": [call("g2", "edit_file", path="auth.py", old="<<<<<<< HEAD", new="")]},
            {"role": "tool", "tool_call_id": "g2", "content": "edited auth.py"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("g3", "run_shell", cmd="pytest -q && git add auth.py && git rebase --continue")]},
            {"role": "tool", "tool_call_id": "g3", "content": "48 passed\nSuccessfully rebased and updated "
                                                               "refs/heads/feature/login."},
            {"role": "assistant", "content": "Rebased feature/login on main; the conflict in auth.py is "
                                             "resolved and the tests pass."},
        ],
        tasks=[("rebase feature login main conflicts", "success")],
        preferences=[],
        outcome="learn",
        paraphrase="resolve merge conflicts while rebasing a git branch",
    ),
    Labelled(
        "signup chart (data work, preferences, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "Plot weekly signups from signups.csv as a bar "
                                          "chart and save it to signups.png. No chart title, and use a "
                                          "colorblind-friendly palette."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "s1", "name": "run_python",
                 "input": {"code": "df = pd.read_csv('signups.csv', parse_dates=['date'])\n"
                                   "w = df.resample('W', on='date').size()\n"
                                   "w.plot.bar(color=sns.color_palette('colorblind'))\nplt.savefig('signups.png')"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "s1",
                                          "content": "saved signups.png (52 bars)"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "The chart of 52 weeks is in signups.png."}]},
            {"role": "user", "content": [{"type": "text", "text": "Looks good."}]},
        ],
        tasks=[("plot weekly signups bar chart", "success")],
        preferences=["no chart title", "colorblind friendly palette"],
        outcome="learn",
        paraphrase="make a bar chart of signups per week",
        format="anthropic",
    ),
    Labelled(
        "health endpoint and version bump (coding, two tasks)",
        [
            {"role": "user", "content": "Add a GET /health endpoint to app.py that returns {\"ok\": true}, then "
                                        "bump the version in pyproject.toml to 1.4.0."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("h1", "edit_file", path="app.py", old="app = FastAPI()",
                                 new="app = FastAPI()\n\n@app.get('/health')\n"
                                     "def health():\n    return {'ok': True}")]},
            {"role": "tool", "tool_call_id": "h1", "content": "edited app.py"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("h2", "run_shell", cmd="pytest -q tests/test_app.py")]},
            {"role": "tool", "tool_call_id": "h2", "content": "6 passed"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("h3", "edit_file", path="pyproject.toml", old='version = "1.3.2"',
                                 new='version = "1.4.0"')]},
            {"role": "tool", "tool_call_id": "h3", "content": "edited pyproject.toml"},
            {"role": "assistant", "content": "Added /health (tests pass) and bumped the version to 1.4.0."},
        ],
        tasks=[("health endpoint", "success"), ("bump version 1.4.0", "success")],
        preferences=[],
        outcome="learn",
        paraphrase="add a health check route to a fastapi app",
    ),
    Labelled(
        "dashboard login (browsing, failed)",
        [
            {"role": "user", "content": "Log in to the analytics dashboard at dash.example and download this "
                                        "week's traffic report."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("l1", "open_browser", url="https://dash.example/login")]},
            {"role": "tool", "tool_call_id": "l1", "content": "login form: email, password"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("l2", "fill_form", fields={"email": "me@example.com", "password": "***"})]},
            {"role": "tool", "tool_call_id": "l2", "content": "page asks for a 6-digit code sent to the "
                                                               "user's phone (two-factor)"},
            {"role": "assistant", "content": "The dashboard asks for a two-factor code sent to your phone, so I "
                                             "cannot log in and download the report."},
            {"role": "user", "content": "Right, I forgot about 2FA. I'll get it myself."},
        ],
        tasks=[("download traffic report dashboard", "failed")],
        preferences=[],
        outcome="warning",
    ),
    Labelled(
        "logs to parquet (data work, preference)",
        [
            {"role": "user", "content": "Convert logs.jsonl to a Parquet file with snappy compression and check "
                                        "that no rows are lost."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("q1", "run_python",
                                 code="t = pyarrow.json.read_json('logs.jsonl')\n"
                                      "pq.write_table(t, 'logs.parquet', compression='snappy')")]},
            {"role": "tool", "tool_call_id": "q1", "content": "wrote logs.parquet"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("q2", "run_python", code="print(t.num_rows, pq.read_metadata('logs.parquet')"
                                                            ".num_rows)")]},
            {"role": "tool", "tool_call_id": "q2", "content": "183211 183211"},
            {"role": "assistant", "content": "logs.parquet has all 183,211 rows, compressed with snappy."},
        ],
        tasks=[("convert logs parquet", "success")],
        preferences=["snappy compression"],
        outcome="learn",
        paraphrase="turn a json lines file into parquet",
    ),
    Labelled(
        "capital lookup (browsing, too trivial, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "What's the capital of Australia? Check "
                                          "Wikipedia."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "w1", "name": "open_browser",
                 "input": {"url": "https://en.wikipedia.org/wiki/Australia"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "w1",
                                          "content": "Australia ... Capital: Canberra ..."}]},
            {"role": "assistant", "content": [{"type": "text", "text": "The capital of Australia is Canberra."}]},
        ],
        tasks=[("capital australia", "success")],
        preferences=[],
        outcome="skip",
        format="anthropic",
    ),
    Labelled(
        "email extraction (data work, Anthropic format)",
        [
            {"role": "user", "content": [{"type": "text", "text": "Pull every email address out of contacts.txt, "
                                          "remove duplicates and save them to emails.txt, one per line."}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "e1", "name": "run_python",
                 "input": {"code": "found = sorted(set(re.findall(r'[\\w.+-]+@[\\w-]+\\.[\\w.]+', "
                                   "open('contacts.txt').read().lower())))\n"
                                   "open('emails.txt', 'w').write('\\n'.join(found))\nprint(len(found))"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "e1", "content": "317"}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "e2", "name": "run_shell", "input": {"cmd": "head -3 emails.txt"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "e2",
                                          "content": "alice@corp.example\nbob@mail.example\ncarol@corp.example"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Saved 317 unique addresses to "
                                               "emails.txt."}]},
        ],
        tasks=[("email addresses contacts emails.txt", "success")],
        preferences=[],
        outcome="learn",
        paraphrase="extract unique e-mail addresses from a text file",
        format="anthropic",
    ),
    Labelled(
        "flaky test (coding, failed)",
        [
            {"role": "user", "content": "test_upload_retry fails now and then in CI. Find out why and fix it."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("f1", "run_shell", cmd="for i in $(seq 50); do pytest -q -k upload_retry || "
                                                         "break; done")]},
            {"role": "tool", "tool_call_id": "f1", "content": "50 x 1 passed"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("f2", "run_shell", cmd="pytest -q -k upload_retry -p no:randomly --count 200")]},
            {"role": "tool", "tool_call_id": "f2", "content": "200 passed"},
            {"role": "assistant", "content": "I could not reproduce the failure locally in 250 runs, so I "
                                             "could not find the cause or fix it."},
            {"role": "user", "content": "Fine, let's leave it for now."},
        ],
        tasks=[("test_upload_retry flaky", "failed")],
        preferences=[],
        outcome="skip",
    ),
    Labelled(
        "pytest migration (coding, still running)",
        [
            {"role": "user", "content": "Convert our unittest test files in tests/ to plain pytest functions. "
                                        "Keep the fixtures in conftest.py."},
            {"role": "assistant", "content": "There are 14 files; starting with test_models.py.",
             "tool_calls": [call("m1", "edit_file", path="tests/test_models.py", old="class TestModels("
                                 "unittest.TestCase):", new="")]},
            {"role": "tool", "tool_call_id": "m1", "content": "edited tests/test_models.py"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("m2", "run_shell", cmd="pytest -q tests/test_models.py")]},
            {"role": "tool", "tool_call_id": "m2", "content": "12 passed"},
            {"role": "assistant", "content": "test_models.py is converted and passes; 13 files to go. Moving on "
                                             "to test_views.py."},
        ],
        tasks=[("convert unittest pytest", "running")],
        preferences=["fixtures conftest.py"],
        outcome="skip",
    ),
    Labelled(
        "unit conversion (too trivial)",
        [
            {"role": "user", "content": "How many kilometres is 26.2 miles?"},
            {"role": "assistant", "content": "26.2 miles is about 42.2 km."},
            {"role": "user", "content": "Cool, thanks."},
        ],
        tasks=[],
        preferences=[],
        outcome="skip",
    ),
    Labelled(
        "docs changelog (browsing)",
        [
            {"role": "user", "content": "Find what changed in the requests library's latest release and list the "
                                        "breaking changes in changes.md."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c1", "open_browser", url="https://pypi.example/project/requests/#history")]},
            {"role": "tool", "tool_call_id": "c1", "content": "latest release 2.33.0"},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c2", "open_browser", url="https://github.example/psf/requests/HISTORY.md")]},
            {"role": "tool", "tool_call_id": "c2", "content": "2.33.0: drops Python 3.8; removes "
                                                               "requests.compat.urlparse alias; ..."},
            {"role": "assistant", "content": None,
             "tool_calls": [call("c3", "write_file", path="changes.md",
                                 content="# requests 2.33.0 breaking changes\n- drops Python 3.8\n- ...")]},
            {"role": "tool", "tool_call_id": "c3", "content": "wrote changes.md"},
            {"role": "assistant", "content": "The breaking changes of requests 2.33.0 are in changes.md."},
        ],
        tasks=[("breaking changes requests release changes.md", "success")],
        preferences=[],
        outcome="learn",
        paraphrase="summarise a python library's breaking changes from its changelog",
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


def outcome_of(kinds: set[str]) -> str:
    """"learn" when an SOP was learned, else "warning" when a warning was, else "skip"."""
    return "learn" if "sop" in kinds else "warning" if "warning" in kinds else "skip"


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
    cached_tokens: int = 0  # of prompt_tokens, served from the engine's prompt cache
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
        skills, found, kinds = [], [], set()
        for item in learned:
            block = await acx.spaces.get_block(space.id, item.block_id or "")
            kinds.add(block.type)
            if block.type != "sop":
                continue
            skills.append(judge_sop(dict(block.data), used))
            if labelled.paraphrase:
                hits = await acx.search.experience_search(space.id, labelled.paraphrase, limit=3)
                found.append(item.block_id in [c.block_id for c in hits.cited_blocks])
        errors += [f"learner item {i.status}: {i.last_error or i.skip_reason}" for i in items
                   if i.status != "learned" and (i.last_error or i.skip_reason)]
        usage = await acx.db.fetch_one(
            "SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt, "
            "COALESCE(SUM(cached_tokens), 0) AS cached, COALESCE(SUM(completion_tokens), 0) AS completion "
            "FROM llm_calls")
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
        preferences_found=prefs_found, expected_outcome=labelled.outcome, outcome=outcome_of(kinds),
        skills=skills, found_again=found, llm_calls=usage["calls"], prompt_tokens=usage["prompt"],
        cached_tokens=usage["cached"],
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
        ("prompt (of them cached) / completion tokens per session",
         f"{sum(s.prompt_tokens for s in scores) // per} ({sum(s.cached_tokens for s in scores) // per}) / "
         f"{sum(s.completion_tokens for s in scores) // per}"),
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


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model, its endpoint, the time limits and the trace: what every real-model benchmark takes."""
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8089/v1")
    parser.add_argument("--model", default="local")
    parser.add_argument("--tool-mode", default="json_schema", choices=("auto", "native", "json_schema"))
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds the observer and learner each get")
    parser.add_argument("--call-timeout", type=float, default=900.0, help="seconds one LLM call may take")
    parser.add_argument("--trace", type=Path, default=None, help="append every request's tail and reply here")


def model_url(args: argparse.Namespace, stack: ExitStack) -> str:
    """The endpoint to send to: `--base-url`, or with `--trace` a recording proxy in front of it."""
    if not args.trace:
        return str(args.base_url)
    return stack.enter_context(ScriptedOpenAI(responder=Recorder(args.base_url, args.trace))).base_url


def model_settings(args: argparse.Namespace, base_url: str, data_dir: Path) -> Settings:
    """Settings that run the observer and learner against the model once, with no retries to blur the score."""
    return Settings(
        data_dir=data_dir, openai_base_url=base_url, llm_model=args.model, llm_tool_mode=args.tool_mode,
        llm_timeout_s=args.call_timeout, observer_idle_s=0.5, observer_max_attempts=1, llm_max_retries=0)


async def run_all(args: argparse.Namespace) -> list[Score]:
    scores = []
    with ExitStack() as stack:
        base_url = model_url(args, stack)
        picked = [int(n) for n in args.only.split(",")] if args.only else range(1, args.sessions + 1)
        for i in picked:
            scores.append(await run_one(args, base_url, i, SESSIONS[i - 1]))
    return scores


async def run_one(args: argparse.Namespace, base_url: str, i: int, labelled: Labelled) -> Score:
    with tempfile.TemporaryDirectory() as tmp:
        score = await score_session(model_settings(args, base_url, Path(tmp) / f"s{i}"), labelled, args.timeout)
    print(json.dumps(asdict(score)), flush=True)
    return score


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.learning", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--sessions", type=int, default=len(SESSIONS), help="score only the first N sessions")
    parser.add_argument("--only", default="", help="score only these sessions, e.g. 1,6,9 (from 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the scores here")
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
