"""Text tools: an example agent that runs offline (no network, standard library only).

It shows the three things a platform worker gives an endpoint: checked inputs in
``payload``, auth params through ``ViksaAuth``, and the A2A call context through
``context()``. Run it with ``viksa run examples/text_tools_agent word_stats --input
text="to be or not to be"``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections import Counter
from typing import Any

from viksa_ai.runtime import ViksaAuth, context, mcp_endpoint

_WORD = re.compile(r"[\w']+")


@mcp_endpoint(description="Count the words of a text and list the most frequent ones")
async def word_stats(payload: dict[str, Any]) -> dict[str, Any]:
    words = [word.lower() for word in _WORD.findall(payload["text"])]
    top = Counter(words).most_common(payload.get("top", 5))
    return {
        "words": len(words),
        "unique": len(set(words)),
        "top": [{"word": word, "count": count} for word, count in top],
        # Set when another agent called this one (A2A); None for a direct call.
        "run_id": context().get("run_id"),
    }


@mcp_endpoint(description="Turn a title into a URL slug")
async def slugify(payload: dict[str, Any]) -> dict[str, Any]:
    separator = payload.get("separator", "-")
    ascii_text = unicodedata.normalize("NFKD", payload["text"]).encode("ascii", "ignore")
    words = re.findall(r"[a-z0-9]+", ascii_text.decode().lower())
    return {"slug": separator.join(words)}


@mcp_endpoint(description="Sign a message with the agent's signing key (HMAC)")
async def sign_message(payload: dict[str, Any]) -> dict[str, Any]:
    algorithm = payload.get("algorithm", "sha256")
    # Raises ViksaAuthError, naming what to configure, when the key is not set.
    key = ViksaAuth.require_param("signing_key", "secret")
    signature = hmac.new(key.encode(), payload["message"].encode(), getattr(hashlib, algorithm))
    call = context()
    return {
        "signature": signature.hexdigest(),
        "algorithm": f"hmac-{algorithm}",
        "run_id": call.get("run_id"),
        "caller_agent": call.get("caller_agent"),
    }
