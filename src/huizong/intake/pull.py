"""Take what the sources hold into the days' inboxes: the DAG task and `huizong intake pull`."""

from __future__ import annotations

from typing import Any

from huizong.intake.arrivals import Source, SourceUnavailable, deposit
from huizong.intake.config import load_sources
from huizong.intake.credentials import connection_uri
from huizong.intake.mailbox import MailboxSource, MailboxUnavailable, Server
from huizong.intake.objectstore import ObjectStoreSource, StoreUnavailable, taken_book
from huizong.settings import Settings


def pull(source: Source, settings: Settings) -> dict[str, Any]:
    """Deposit every arrival of one source; a summary of what was new."""
    new, again, days = 0, 0, set()
    for arrival in source.arrivals():
        done = deposit(arrival, settings)
        days.add(done.day.isoformat())
        new, again = new + done.new, again + (not done.new)
    return {"files_new": new, "files_again": again, "days": sorted(days)}


def pull_sources(settings: Settings, *, in_task: bool = False) -> dict[str, Any]:
    """Pull every mailbox and shared store of the sources file; one that is down does not
    stop the others, but the pull fails at the end naming each (what was taken stays
    taken)."""
    config = load_sources(settings.sources)
    summary: dict[str, Any] = {}
    failures: list[SourceUnavailable] = []
    for mb in config.mailboxes:
        source = MailboxSource(mb, Server.from_uri(connection_uri(mb.conn_id, in_task=in_task)))
        try:
            summary[mb.name] = {**pull(source, settings), "messages": len(source.marked)}
        except MailboxUnavailable as exc:
            failures.append(exc)
    for st in config.stores:
        store = ObjectStoreSource(st, taken_book(settings.home, st.name))
        try:
            summary[st.name] = pull(store, settings)
        except StoreUnavailable as exc:
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise SourceUnavailable("\n".join(str(f) for f in failures))
    return summary
