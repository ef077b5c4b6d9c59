"""The IAM store: every identity operation, over the key store's database.

Imports: the mixins.
"""

from __future__ import annotations

from ._activity import ActivityReader
from ._attach import AttachmentAdmin
from ._details import DetailsReader
from ._groups import GroupAdmin
from ._policies import PolicyAdmin
from ._roles import RoleAdmin
from ._root_keys import RootKeyAdmin
from ._snapshot import SnapshotLoader

__all__ = ["IAMStore"]


class IAMStore(
    RoleAdmin, GroupAdmin, PolicyAdmin, AttachmentAdmin, DetailsReader, SnapshotLoader,
    ActivityReader, RootKeyAdmin,
):
    """IAM's identity operations on a key store (SQLite or PostgreSQL, written once).

    ```python
    from sigv4kit.middleware import open_store
    from sigv4kit.middleware.iam.entities import IAMStore

    store = open_store("sqlite:///iam.db")
    iam = IAMStore(store)                       # random=secrets.token_bytes, clock=UTC now
    account = await iam.create_account("123456789012")
    user = await iam.create_user("123456789012", "bob", tags={"team": "a"})
    key = await iam.create_access_key("123456789012", "bob")   # the secret, once
    snapshot = await iam.load_authorization(key.access_key_id)
    ```

    Every method is one transaction and raises IAM's errors
    (:data:`~sigv4kit.middleware.iam.entities.IAM_ERRORS`); the store's own
    ``StoreUnavailableError`` when the database cannot answer. Every write
    bumps the IAM generation (:meth:`current_generation`). The store stays
    owned by the caller (close it with ``await store.aclose()``).
    """
