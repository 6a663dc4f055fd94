"""The one network layer: a guarded HTTP client and a retry policy, for every stage that fetches.

- :func:`async_client` / :func:`sync_client`: httpx clients whose every connection is checked
  against an :class:`AddressPolicy` (the address actually connected to, at every redirect hop,
  with no second resolution), http/https only, connect/read timeouts;
  :func:`aiter_capped` / :func:`read_capped` read a body within a size cap and a deadline;
- :class:`RetryPolicy`: which failures are transient, exponential backoff with jitter,
  ``Retry-After`` in both forms (:func:`parse_retry_after`), a total time budget.

Download and the Label Studio image fetcher refuse loopback/private/link-local/reserved
addresses unless allowed (:data:`PUBLIC_ONLY`); capture connects anywhere (:data:`ANY_ADDRESS`).
"""

from vigie.net.client import (
    MAX_REDIRECTS,
    BodyError,
    aiter_capped,
    announced_size,
    aread_capped,
    async_client,
    iter_capped,
    read_capped,
    sync_client,
)
from vigie.net.policy import (
    ANY_ADDRESS,
    PUBLIC_ONLY,
    AddressPolicy,
    BlockedAddressError,
    address_allowed,
    check_scheme,
)
from vigie.net.retry import (
    Attempts,
    GaveUp,
    RetryableStatus,
    RetryPolicy,
    backoff,
    call_with_retries,
    is_transient_error,
    is_transient_status,
    parse_retry_after,
    retry_after_of,
)

__all__ = [
    "ANY_ADDRESS",
    "MAX_REDIRECTS",
    "PUBLIC_ONLY",
    "AddressPolicy",
    "Attempts",
    "BlockedAddressError",
    "BodyError",
    "GaveUp",
    "RetryPolicy",
    "RetryableStatus",
    "address_allowed",
    "aiter_capped",
    "announced_size",
    "aread_capped",
    "async_client",
    "backoff",
    "call_with_retries",
    "check_scheme",
    "is_transient_error",
    "is_transient_status",
    "iter_capped",
    "parse_retry_after",
    "read_capped",
    "retry_after_of",
    "sync_client",
]
