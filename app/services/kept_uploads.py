"""An upload kept: a tenant's teacher or transfer set counted, inserted and stored in one transaction.

Every upload route ends the same way, and the order matters. The tenant's quota lock is taken first, so that
concurrent uploads are admitted one at a time (tests/integration/test_quota_races.py), and storage is checked
again under it. The row is flushed before its file is moved into the store, so that a row the database
refuses leaves no file. Should the commit fail after the move, the stored file is deleted again: nothing is
left in the store that no row points at.
"""

from sqlalchemy.orm import Session

from app.quotas import check_storage, hold_quota_lock
from core.config import Settings
from core.ids import new_id
from core.store import ArtifactStore
from core.tables import Artifact


def keep_upload(session: Session, store: ArtifactStore, settings: Settings, *, tenant: str, row, kind: str,
                key: str, staged) -> None:
    """Insert ``row`` (a Teacher or TransferSet, without its artifact) with the file ``staged`` (a staged
    upload: ``path``, ``size_bytes``, ``sha256``) kept at ``key``, and commit."""
    hold_quota_lock(session, tenant)
    check_storage(session, tenant, settings, staged.size_bytes)
    row.artifact = Artifact(id=new_id("artifact"), kind=kind, key=key, sha256=staged.sha256,
                            size_bytes=staged.size_bytes)
    session.add(row)
    session.flush()
    store.commit(staged.path, key)
    try:
        session.commit()
    except Exception:
        store.delete(key)
        raise
