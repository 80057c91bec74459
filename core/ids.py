"""Short prefixed identifiers (``tch_…``, ``ts_…``, ``job_…``) so an id says what it names."""

import base64
import secrets

PREFIXES = {
    "teacher": "tch",
    "transfer_set": "ts",
    "job": "job",
    "run": "run",
    "artifact": "art",
    "tenant": "ten",
    "api_key": "key",
    "webhook": "whk",
    "delivery": "msg",  # Standard Webhooks' examples name message ids msg_…
}


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{secrets.token_hex(8)}"


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
