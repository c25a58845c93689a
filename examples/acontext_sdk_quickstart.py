"""The seed README's quickstart, verbatim, on the official `acontext` SDK against acontext-mcp.

Start the server the README's way (`scripts/serve`, with an LLM configured for task extraction:
`OPENAI_API_KEY=... scripts/serve`), then, in a venv with the SDK (`pip install acontext==0.0.7`,
or the newest `acontext`) and `openai`:

    OPENAI_API_KEY=... python examples/acontext_sdk_quickstart.py

`ACONTEXT_BASE_URL` / `ACONTEXT_API_KEY` override the seed's `http://localhost:8029/api/v1` and
`sk-ac-your-root-api-bearer-token` (any bearer works on loopback when no token is configured).
The seed was written for acontext 0.0.x. On newer SDKs marked lines bridge the differences, and
nothing else changes: `send_message` is called `store_message` since 0.0.8, a task's `data` is a
model since 0.1 (turned back into the dict the seed indexes), and spaces (replaced by learning
spaces) are gone since 0.1.4, so that last section is skipped there.
"""

import os

from acontext import AcontextClient
from acontext.resources.sessions import SessionsAPI
from openai import OpenAI

if not hasattr(SessionsAPI, "send_message"):  # acontext >= 0.0.8 renamed it
    SessionsAPI.send_message = SessionsAPI.store_message  # type: ignore[attr-defined]

openai_client = OpenAI()

# --- Seed: connect ---
client = AcontextClient(
    base_url=os.environ.get("ACONTEXT_BASE_URL", "http://localhost:8029/api/v1"),
    api_key=os.environ.get("ACONTEXT_API_KEY", "sk-ac-your-root-api-bearer-token"),
)
client.ping()

# yes, the default api_key is sk-ac-your-root-api-bearer-token

# --- Seed: store messages ---
session = client.sessions.create()

messages = [
    {"role": "user", "content": "I need to write a landing page of iPhone 15 pro max"},
    {
        "role": "assistant",
        "content": "Sure, my plan is below:\n1. Search for the latest news about iPhone 15 pro max\n2. Init Next.js project for the landing page\n3. Deploy the landing page to the website",
    }
]

# Save messages
for msg in messages:
    client.sessions.send_message(session_id=session.id, blob=msg, format="openai")

# --- Seed: load messages ---
r = client.sessions.get_messages(session.id)
new_msg = r.items

new_msg.append({"role": "user", "content": "How are you doing?"})
r = openai_client.chat.completions.create(model="gpt-4.1", messages=new_msg)
print(r.choices[0].message.content)
client.sessions.send_message(session_id=session.id, blob=r.choices[0].message)

# --- Seed: artifacts ---
from acontext import FileUpload

disk = client.disks.create()

file = FileUpload(
    filename="todo.md",
    content=b"# Sprint Plan\n\n## Goals\n- Complete user authentication\n- Fix critical bugs"
)
artifact = client.disks.artifacts.upsert(
    disk.id,
    file=file,
    file_path="/todo/"
)


print(client.disks.artifacts.list(
    disk.id,
    path="/todo/"
))

result = client.disks.artifacts.get(
    disk.id,
    file_path="/todo/",
    filename="todo.md",
    with_public_url=True,
    with_content=True
)
print(f"✓ File content: {result.content.raw}")
print(f"✓ Download URL: {result.public_url}")

# --- Seed: observe tasks ---
# Create a project and session
session = client.sessions.create()

# Conversation messages
messages = [
    {"role": "user", "content": "I need to write a landing page of iPhone 15 pro max"},
    {
        "role": "assistant",
        "content": "Sure, my plan is below:\n1. Search for the latest news about iPhone 15 pro max\n2. Init Next.js project for the landing page\n3. Deploy the landing page to the website",
    },
    {
        "role": "user",
        "content": "That sounds good. Let's first collect the message and report to me before any landing page coding.",
    },
    {
        "role": "assistant",
        "content": "Sure, I will first collect the message then report to you before any landing page coding.",
        "tool_calls": [
            {
                "id": "call_001",
                "type": "function",
                "function": {
                    "name": "search_news",
                    "arguments": "{\"query\": \"iPhone news\"}"
                }
            }
        ]
    },
]

# Send messages in a loop
for msg in messages:
    client.sessions.send_message(session_id=session.id, blob=msg, format="openai")

# Wait for task extraction to complete
client.sessions.flush(session.id)

# Display extracted tasks
tasks_response = client.sessions.get_tasks(session.id)
print(tasks_response)
for task in tasks_response.items:
    if not isinstance(task.data, dict):  # acontext >= 0.1: a TaskData model; the seed indexes a dict
        task = task.model_copy(update={"data": task.data.model_dump(exclude_none=True)})
    print(f"\nTask #{task.order}:")
    print(f"  ID: {task.id}")
    print(f"  Title: {task.data['task_description']}")
    print(f"  Status: {task.status}")

    # Show progress updates if available
    if "progresses" in task.data:
        print(f"  Progress updates: {len(task.data['progresses'])}")
        for progress in task.data["progresses"]:
            print(f"    - {progress}")

    # Show user preferences if available
    if "user_preferences" in task.data:
        print("  User preferences:")
        for pref in task.data["user_preferences"]:
            print(f"    - {pref}")

# --- Seed: self-learning (acontext < 0.1.4: spaces) ---
if hasattr(client, "spaces"):
    # Step 1: Create a Space for skill learning
    space = client.spaces.create()
    print(f"Created Space: {space.id}")

    # Step 2: Create a session attached to the space
    session = client.sessions.create(space_id=space.id)

    # ... push the agent working context

    result = client.spaces.experience_search(
        space_id=space.id,
        query="I need to implement authentication",
        mode="fast"
    )
    print(f"Found {len(result.cited_blocks)} skills")
