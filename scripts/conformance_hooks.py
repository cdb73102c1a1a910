"""Schemathesis hooks for `make conformance` (loaded through SCHEMATHESIS_HOOKS by scripts/conformance.sh).

A generated Idempotency-Key is replaced by a fresh UUID. Schemathesis draws short keys ("0", "00"…) again and
again, so its stateful phase sends "POST with key K, DELETE what it created, POST again with key K and the same
body" (the service then answers 409: what the key created was deleted since, as docs/reliability.md says) and
"POST with key K" twice with different bodies (422), which its checks take for the operation failing. Replays and
mismatched keys are covered by tests/api/idempotency.rs; here every create with a well-formed key runs once. A
malformed key (outside the document's pattern) is left as drawn, so the checks that expect its 400 still see it.
"""

import re
import uuid

import schemathesis

# The pattern of the Idempotency-Key parameter in docs/openapi.json.
WELL_FORMED = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def map_headers(ctx, headers):
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key" and WELL_FORMED.fullmatch(str(headers[name])):
                headers[name] = str(uuid.uuid4())
    return headers
