"""The cleaned-document model: what downstream consumers receive, one JSON object each.

`Document` is the typed model; `schemas/document.schema.json` (shipped in this package) is
generated from it and a test keeps the two equal, so validating with pydantic on publish is
validating against the published JSON Schema.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

ISO_WITH_OFFSET = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2}|Z)$"
IsoTime = Annotated[str, StringConstraints(pattern=ISO_WITH_OFFSET)]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]


class DocumentError(ValueError):
    """A document that does not match the schema (names the field)."""


class Image(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: NonEmpty
    caption: str = ""


class Document(BaseModel):
    """One cleaned article. `id` + `version` identify a delivery; dedupe consumers on them."""

    model_config = ConfigDict(extra="forbid", title="newsdedup document")

    id: NonEmpty = Field(description="Stable id: site + the site's article id, else a hash of the canonical URL.")
    url: str = Field(description="URL the page was fetched from.")
    canonical_url: str = Field(description="The page's canonical URL (tracking parameters removed).")
    site: str = Field(description="Site name from the registry, or the host for generic pages.")
    title: str
    sapo: str = Field("", description="Lead paragraph.")
    text: str = Field(description="Body paragraphs joined by blank lines, boilerplate removed.")
    authors: list[str] = Field(default_factory=list)
    published: IsoTime | None = Field(None, description="ISO-8601 with offset (+07:00 for Vietnamese sites).")
    updated: IsoTime | None = None
    category: str = ""
    tags: list[str] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    language: str = "vi"
    fetched_at: IsoTime | None = None
    content_hash: str = Field("", description="Hash of the normalised text: equal for exact duplicates.")
    version: int = Field(1, ge=1, description="1, 2, ... each time the page's text changes.")
    cluster: str = Field("", description="Id of the near-duplicate cluster's canonical document.")
    removed_blocks: int = Field(0, ge=0, description="Boilerplate blocks dropped while cleaning.")

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))


def validate_document(data: dict[str, Any] | Document) -> Document:
    """Check a document against the schema; raise DocumentError naming the bad field."""
    if isinstance(data, Document):
        return data
    try:
        return Document.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "document"
        doc_id = data.get("id") if isinstance(data, dict) else None
        raise DocumentError(f"document {doc_id!r}: field {where!r}: {err.get('msg', 'invalid')}") from None


def generated_schema() -> dict[str, Any]:
    """The JSON Schema as pydantic derives it from `Document`."""
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://newsdedup.invalid/schemas/document.schema.json"
    return schema


@lru_cache(maxsize=1)
def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package (what other tools validate with)."""
    text = resources.files("docqueue").joinpath("schemas/document.schema.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return,unused-ignore]


if __name__ == "__main__":  # pragma: no cover - regenerates the shipped schema
    print(json.dumps(generated_schema(), indent=2, ensure_ascii=False))
