"""A corpus of SOPs and paraphrased requests for search tests and benchmarks/search.py.

Each SOP lives on a page (its `page` path); `queries` are requests a user might make for it,
written as paraphrases rather than copies of its text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcp import Client

from acontext_mcp.services.spaces.service import SpaceService
from tests.support.mcp import call


@dataclass(frozen=True)
class Sop:
    page: str
    title: str
    use_when: str
    steps: tuple[tuple[str, str], ...]
    queries: tuple[str, str]
    preferences: str = ""

    @property
    def data(self) -> dict[str, Any]:
        return {"use_when": self.use_when, "preferences": self.preferences,
                "tool_sops": [{"tool_name": tool, "action": action} for tool, action in self.steps]}


SOPS: tuple[Sop, ...] = (
    Sop("/github/GTM", "Star a repository", "the user wants to star a GitHub repository",
        (("github_search_repos", "find the repo by owner and name"), ("github_star_repo", "star it")),
        ("give that repo a star on github", "please star the acontext repository for me")),
    Sop("/github/GTM", "Share a repo on social media", "announce or promote a repository release publicly",
        (("github_get_release", "read the latest release notes"), ("twitter_post", "post a short announcement")),
        ("tweet about our new release", "promote the launch of the project online")),
    Sop("/github/GTM", "Write a launch blog post", "publish a blog article for a product launch",
        (("docs_create_page", "draft the article"), ("cms_publish", "publish to the blog")),
        ("draft and publish an article announcing the launch", "blog about the product going live")),
    Sop("/github/basic_ops", "Create a pull request", "open a pull request from a feature branch",
        (("git_push", "push the branch"), ("github_create_pr", "open the PR against main with a summary")),
        ("open a PR for my branch", "submit my changes for review as a pull request")),
    Sop("/github/basic_ops", "Open an issue", "report a bug or request a feature on a repository",
        (("github_search_issues", "check for duplicates"), ("github_create_issue", "file it with repro steps")),
        ("file a bug report on the repo", "log a new ticket for this defect")),
    Sop("/github/basic_ops", "Merge a pull request", "merge an approved pull request",
        (("github_get_pr", "check approvals and CI status"), ("github_merge_pr", "squash and merge")),
        ("squash and land the approved PR", "merge the reviewed change into main")),
    Sop("/github/basic_ops", "Clone a repository", "get a local copy of a repository",
        (("git_clone", "clone over ssh into the workspace"),),
        ("download the repo source to my machine", "check out the code locally with git")),
    Sop("/github/basic_ops", "Tag a release", "cut a new versioned release of a repository",
        (("git_tag", "tag the commit with the semver version"), ("github_create_release", "publish notes")),
        ("cut version 1.2.0 and publish it", "make a new semver release with notes")),
    Sop("/github/reviews", "Review a pull request", "review someone else's pull request and leave comments",
        (("github_get_pr_diff", "read the diff"), ("github_comment_pr", "leave inline comments and a verdict")),
        ("look over this PR and comment on it", "give feedback on a colleague's code change")),
    Sop("/github/reviews", "Request reviewers", "ask teammates to review a pull request",
        (("github_list_codeowners", "find code owners"), ("github_request_review", "request two reviewers")),
        ("ask the code owners to look at my PR", "get teammates assigned to review my change")),
    Sop("/slack/messaging", "Post a message to a channel", "send a message to a Slack channel",
        (("slack_find_channel", "look up the channel id"), ("slack_post_message", "post the text")),
        ("send an update to the team channel on slack", "write in the #general room")),
    Sop("/slack/messaging", "Send a direct message", "message one person privately on Slack",
        (("slack_find_user", "look up the user by name"), ("slack_open_dm", "open a DM and send")),
        ("DM alice on slack", "privately ping a coworker in chat")),
    Sop("/slack/messaging", "Schedule a reminder", "remind someone or a channel at a later time",
        (("slack_add_reminder", "set the reminder text and time"),),
        ("remind me tomorrow at 9 about the standup", "set a nudge for the team later today")),
    Sop("/slack/admin", "Create a channel", "set up a new Slack channel for a project",
        (("slack_create_channel", "create it, private if asked"), ("slack_invite", "invite the members")),
        ("make a new slack room for project apollo", "spin up a chat space for the new team")),
    Sop("/slack/admin", "Archive a channel", "close down an inactive Slack channel",
        (("slack_archive_channel", "archive it after posting a notice"),),
        ("shut down the old project room", "retire the unused chat channel")),
    Sop("/email/inbox", "Reply to an email", "answer an email thread",
        (("gmail_get_thread", "read the thread"), ("gmail_reply", "reply to all with a concise answer")),
        ("respond to the message from the vendor", "write back to that thread in my inbox"),
        preferences="keep replies short and friendly"),
    Sop("/email/inbox", "Summarise unread email", "catch up on unread mail",
        (("gmail_search", "query is:unread"), ("llm_summarise", "group by sender and urgency")),
        ("what did I miss in my inbox", "give me a digest of new mail")),
    Sop("/email/inbox", "Unsubscribe from a newsletter", "stop receiving a mailing list or newsletter",
        (("gmail_find_unsubscribe", "find the list-unsubscribe link"), ("http_get", "follow it")),
        ("stop these marketing mails", "opt out of that mailing list")),
    Sop("/email/outreach", "Send a cold outreach email", "write a first-contact sales email to a prospect",
        (("crm_get_contact", "load the prospect"), ("gmail_send", "send a personalised pitch")),
        ("pitch our product to a new lead by mail", "contact a prospect we have never spoken to")),
    Sop("/calendar", "Schedule a meeting", "book a meeting with one or more people",
        (("calendar_find_free_slots", "find a common slot"), ("calendar_create_event", "send the invite")),
        ("book 30 minutes with bob next week", "set up a call with the design team")),
    Sop("/calendar", "Reschedule a meeting", "move an existing meeting to another time",
        (("calendar_get_event", "find the event"), ("calendar_update_event", "move it and notify guests")),
        ("push my 3pm sync to friday", "shift tomorrow's call to a later slot")),
    Sop("/calendar", "Block focus time", "reserve uninterrupted time on the calendar",
        (("calendar_create_event", "create a busy block with no guests"),),
        ("keep my mornings free for deep work", "hold two hours tomorrow so nobody books me")),
    Sop("/files/drive", "Share a document", "give someone access to a file in Google Drive",
        (("drive_search", "find the file"), ("drive_share", "grant viewer or editor access")),
        ("let carol edit the budget spreadsheet", "give the client access to the proposal doc")),
    Sop("/files/drive", "Convert a document to PDF", "export a document as a PDF file",
        (("drive_export", "export with mime type application/pdf"),),
        ("turn this doc into a pdf", "export the report for printing")),
    Sop("/files/local", "Compress a folder", "zip a directory into an archive",
        (("shell_run", "zip -r archive.zip folder"),),
        ("zip up the logs directory", "bundle these files into one archive")),
    Sop("/files/local", "Find large files", "find what is using disk space",
        (("shell_run", "du -ah | sort -h | tail"),),
        ("my disk is full, what is taking space", "locate the biggest files on this machine")),
    Sop("/data/sql", "Export query results to CSV", "save the results of a SQL query as a CSV file",
        (("sql_query", "run the query"), ("csv_write", "write rows with a header")),
        ("dump this select into a spreadsheet file", "save the report rows as comma separated values")),
    Sop("/data/sql", "Back up a database", "take a backup of a production database",
        (("pg_dump", "dump to a timestamped file"), ("s3_upload", "upload to the backups bucket")),
        ("snapshot the postgres db before the migration", "save a copy of prod data to storage")),
    Sop("/data/sql", "Add a database index", "speed up a slow query with an index",
        (("sql_explain", "read the query plan"), ("sql_execute", "create the index concurrently")),
        ("this query is slow, make it faster", "optimise the lookup on the orders table")),
    Sop("/data/analytics", "Build a weekly dashboard", "make a recurring metrics dashboard",
        (("bi_create_chart", "chart the key metrics"), ("bi_schedule", "email it every monday")),
        ("set up charts of our KPIs sent every week", "create a metrics report for leadership")),
    Sop("/deploy", "Deploy to production", "release the main branch to production",
        (("ci_get_status", "confirm main is green"), ("deploy_run", "deploy with the prod profile")),
        ("ship the latest main to prod", "push the new build live")),
    Sop("/deploy", "Roll back a deployment", "undo a bad production release",
        (("deploy_list", "find the previous good version"), ("deploy_rollback", "roll back to it")),
        ("the release broke checkout, revert it", "go back to yesterday's version in production")),
    Sop("/deploy", "Rotate an API key", "replace a leaked or expiring secret key",
        (("secrets_create", "create the new key"), ("secrets_revoke", "revoke the old one after deploy")),
        ("our token leaked, replace it", "renew the credentials for the payment provider")),
    Sop("/deploy", "Scale a service", "change the number of running instances of a service",
        (("k8s_scale", "set the replica count"),),
        ("we need more capacity for the api", "add replicas to handle the traffic spike")),
    Sop("/docs", "Update the README", "change a project's README documentation",
        (("git_checkout", "create a docs branch"), ("file_edit", "edit README.md"), ("github_create_pr", "open a PR")),
        ("fix the install instructions in the readme", "improve the project front page docs")),
    Sop("/docs", "Translate documentation", "translate docs into another language",
        (("docs_read", "load the page"), ("llm_translate", "translate keeping code blocks")),
        ("make a spanish version of the guide", "localise the manual for japanese readers")),
    Sop("/payments", "Issue a refund", "refund a customer's payment",
        (("stripe_find_charge", "find the charge by email"), ("stripe_refund", "refund the full amount")),
        ("give the customer their money back", "reverse the charge for order 1234")),
    Sop("/payments", "Send an invoice", "bill a customer with an invoice",
        (("stripe_create_invoice", "add line items"), ("stripe_send_invoice", "email it to the customer")),
        ("bill acme for march consulting", "charge the client for the work done")),
    Sop("/support", "Triage a support ticket", "sort and route an incoming support request",
        (("helpdesk_get_ticket", "read it"), ("helpdesk_assign", "tag priority and assign a team")),
        ("route this customer complaint to the right team", "prioritise the new helpdesk request")),
    Sop("/support", "Write a help center article", "document an answer for customers in the help center",
        (("helpdesk_create_article", "write steps with screenshots"),),
        ("add a faq entry on resetting passwords", "document this fix for customers in the knowledge base")),
)


CreateBlock = Callable[[str, str, str, "dict[str, Any] | None"], Awaitable[str]]
"""(parent_path, type, title, data) -> the new block's id."""


async def build(create: CreateBlock, sops: Iterable[Sop]) -> dict[str, str]:
    """Create each SOP under its page, making the folders and page on the way; return {title: block id}."""
    made: set[str] = set()
    ids: dict[str, str] = {}
    for sop in sops:
        parts = sop.page.strip("/").split("/")
        for depth, title in enumerate(parts):
            path = "/" + "/".join(parts[: depth + 1])
            if path not in made:
                parent = "/" + "/".join(parts[:depth])
                await create(parent, "page" if depth == len(parts) - 1 else "folder", title, None)
                made.add(path)
        ids[sop.title] = await create(sop.page, "sop", sop.title, sop.data)
    return ids


async def seed(spaces: SpaceService, space_id: str, sops: Iterable[Sop] = SOPS) -> dict[str, str]:
    """The corpus in a space, through the service."""

    async def create(parent: str, type: str, title: str, data: dict[str, Any] | None) -> str:
        return (await spaces.create_block(space_id, parent, type, title, data)).id

    return await build(create, sops)


async def seed_over_mcp(client: Client, space_id: str, sops: Iterable[Sop] = SOPS) -> dict[str, str]:
    """The corpus in a space, through the MCP tools."""

    async def create(parent: str, type: str, title: str, data: dict[str, Any] | None) -> str:
        extra = {"data": data} if data is not None else {}
        block = await call(client, "create_block", space_id=space_id, parent_path=parent, type=type, title=title,
                           **extra)
        return str(block["id"])

    return await build(create, sops)
