"""The document library over the API, as OpenAI's vector-store search: the library is the
store ``library``, so ``client.vector_stores.search("library", query=...)`` works unchanged
and any client can ground its own prompts in the user's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from seesay.server.errors import APIError

router = APIRouter(tags=["documents"])
STORE_ID = "library"


class SearchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=4000)
    max_num_results: int = Field(default=10, ge=1, le=50)
    rewrite_query: bool = False  # accepted; the query is searched as written


@router.post("/v1/vector_stores/{store_id}/search", response_model=None)
async def search(store_id: str, body: SearchRequest, request: Request) -> dict[str, Any]:
    """The passages that best match ``query``: BM25 and embeddings fused, as `seesay docs search`."""
    if store_id != STORE_ID:
        raise APIError(
            404, f"No vector store {store_id!r}; the document library is {STORE_ID!r}.", code="not_found"
        )
    library = request.app.state.services.library
    hits = await run_in_threadpool(library.search, body.query, body.max_num_results)
    return {
        "object": "vector_store.search_results.page",
        "search_query": [body.query],
        "data": [
            {
                "file_id": h.path,
                "filename": Path(h.path).name,
                "score": round(max(h.similarity, 0.0), 4),
                "attributes": {"path": h.path, "page": h.page, "section": h.section},
                "content": [{"type": "text", "text": h.text}],
            }
            for h in hits
        ],
        "has_more": False,
        "next_page": None,
    }
