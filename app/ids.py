"""Short prefixed identifiers (``tch_…``, ``ts_…``, ``job_…``) so an id says what it names."""

import secrets

PREFIXES = {
    "teacher": "tch",
    "transfer_set": "ts",
    "job": "job",
    "run": "run",
    "artifact": "art",
    "tenant": "ten",
    "api_key": "key",
}


def new_id(kind: str) -> str:
    return f"{PREFIXES[kind]}_{secrets.token_hex(8)}"
