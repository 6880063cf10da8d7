"""`newsdedup dedup IN.jsonl` as a library: records in, one verdict per record out, in order.

What is compared is the article *body*: the text goes through the same text rules as
`clean` (site chrome, related-news blocks, a headline-like first line split off as title),
then is normalised, hashed and signed. The title is deliberately left out — republishers
rewrite headlines far more often than bodies, and a title is too short to matter when it
is the same — except when the body is empty, where the title is all there is. A record
whose body and title normalise to nothing is reported unique and never indexed (an empty
signature would match every other empty one).

Statuses: NEW and NEW_VERSION (same id again, changed text) are "unique"; DUPLICATE and
UNCHANGED (same id again, same text) are "duplicate", duplicate_of the cluster's canonical.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from dedup.index import DedupIndex, IndexEntry, Verdict
from dedup.minhash import MinHasher
from dedup.normalize import content_hash, normalize
from dedup.text_rules import DEFAULT_RULES, TextRules, clean_plain_text

CHUNK = 256  # entries per check_and_insert call (one round trip for the Redis backend)


def _record_id(record: Any, line: int) -> str:
    if not isinstance(record, dict):
        raise ValueError(f"line {line}: expected a JSON object, got {type(record).__name__}")
    doc_id = record.get("id")
    if doc_id is None or isinstance(doc_id, bool) or not isinstance(doc_id, (str, int)) or doc_id == "":
        raise ValueError(f"line {line}: missing or invalid 'id' (a non-empty string or an integer)")
    if not isinstance(record.get("text"), str):
        raise ValueError(f"line {line}: missing or invalid 'text' (a string)")
    for key in ("title", "url"):
        if record.get(key) is not None and not isinstance(record[key], str):
            raise ValueError(f"line {line}: '{key}' must be a string")
    return str(doc_id)


def _published(value: Any, line: int) -> float | None:
    """Epoch seconds from a number or an ISO-8601 string (naive means UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.timestamp()
    raise ValueError(f"line {line}: 'published' must be ISO-8601 or epoch seconds, got {value!r}")


def matching_text(text: str, title: str | None = None, rules: TextRules = DEFAULT_RULES) -> str:
    """The normalised text a record is compared on (see the module docstring)."""
    cleaned = clean_plain_text(text, rules)
    body = normalize(cleaned.text)
    if body:
        return body
    return normalize(title or cleaned.title or "")


def dedup_records(
    records: Iterable[Any],
    index: DedupIndex,
    hasher: MinHasher | None = None,
    rules: TextRules = DEFAULT_RULES,
    first_line: int = 1,
) -> Iterator[dict[str, Any]]:
    """Yield {"id", "status", "duplicate_of", "cluster", "similarity"} per record, in order.

    Raises ValueError naming the (1-based, from `first_line`) line of the first bad record;
    results for the records before it have been yielded already.
    """
    hasher = hasher or MinHasher()
    numbered = enumerate(records, start=first_line)
    while True:
        chunk = list(itertools.islice(numbered, CHUNK))
        if not chunk:
            return
        entries: list[IndexEntry] = []
        slots: list[tuple[str, int | None]] = []  # (id, position in entries or None if empty)
        error: ValueError | None = None
        for line, record in chunk:
            try:
                doc_id = _record_id(record, line)
                published = _published(record.get("published"), line)
            except ValueError as exc:
                error = exc
                break
            norm = matching_text(record["text"], record.get("title"), rules)
            if not norm:
                slots.append((doc_id, None))
                continue
            slots.append((doc_id, len(entries)))
            entries.append(
                IndexEntry(
                    doc_id=doc_id,
                    signature=hasher.signature(norm),
                    content_hash=content_hash(norm),
                    published=published,
                    url=record.get("url") or "",
                    site=str(record.get("site") or ""),
                )
            )
        decisions = index.check_and_insert(entries) if entries else []
        for doc_id, pos in slots:
            if pos is None:
                yield {"id": doc_id, "status": "unique", "duplicate_of": None, "cluster": doc_id, "similarity": None}
                continue
            d = decisions[pos]
            dup = d.verdict in (Verdict.DUPLICATE, Verdict.UNCHANGED)
            yield {
                "id": doc_id,
                "status": "duplicate" if dup else "unique",
                "duplicate_of": (d.duplicate_of or d.cluster) if dup else None,
                "cluster": d.cluster,
                "similarity": 1.0 if d.verdict is Verdict.UNCHANGED else _round(d.similarity),
            }
        if error is not None:
            raise error


def _round(similarity: float | None) -> float | None:
    return None if similarity is None else round(float(similarity), 4)
