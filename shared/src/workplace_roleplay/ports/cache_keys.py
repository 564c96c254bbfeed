"""Cache key names and their Redis Cluster hash tags (the inventory is docs/redis-keys.md).

On a cluster a key's slot is CRC16 of its hash tag (the text between the first ``{`` and the next
``}``) or, without one, of the whole key. Keys that belong to one owner (a turn, a learner, a
rate-limit subject) carry that owner as their tag, so every key of the owner lives in one slot and a
transaction, script or multi-key command over them never fails with CROSSSLOT. Keys only ever used
one at a time (``ai_cache:``, ``tts_cache:``) have no tag and spread over all slots by their hash.
"""

from __future__ import annotations

import hashlib
from typing import Final

STREAM_PREFIX: Final = "stream:"
SESSION_PREFIX: Final = "user_session:"
RATELIMIT_PREFIX: Final = "ratelimit:"


def hash_tag(owner: str) -> str:
    """``{owner}``: the part of a key the cluster hashes.

    An owner with a brace would cut the tag short and an empty one is no tag at all, so those (never
    produced by our ids, but ip addresses come from a header) are tagged by a digest instead.
    """
    if not owner or "{" in owner or "}" in owner:
        return "{=" + hashlib.sha256(owner.encode()).hexdigest()[:24] + "}"
    return "{" + owner + "}"


def stream_key(turn_id: str) -> str:
    """``stream:{<turn_id>}``: the SSE replay buffer of one turn."""
    return STREAM_PREFIX + hash_tag(turn_id)


def session_key(user_id: str) -> str:
    """``user_session:{<user_id>}``: the learner's hot session state."""
    return SESSION_PREFIX + hash_tag(user_id)


def session_match_prefix(user_prefix: str = "") -> str:
    """Key prefix of the hot sessions of users whose id starts with ``user_prefix`` (all when empty)."""
    return SESSION_PREFIX + "{" + user_prefix if user_prefix else SESSION_PREFIX


def ratelimit_key(key: str) -> str:
    """``ratelimit:{<subject>}:<rest>`` for a limiter key ``<kind>:<id>:<rest>`` (``user:u1:chat``).

    The subject (``user:u1``, ``ip:203.0.113.9``, ``tts:<hash>``) is the tag, so every limit of one
    subject shares a slot. A key without a ``:<rest>`` is all subject.
    """
    kind, sep, remainder = key.partition(":")
    if not sep:
        return RATELIMIT_PREFIX + hash_tag(key)
    # IPv6 addresses contain ':'; the route class never does, so the subject ends at the last ':'.
    ident, sep2, rest = remainder.rpartition(":")
    if not sep2 or not ident:
        return RATELIMIT_PREFIX + hash_tag(key)
    return f"{RATELIMIT_PREFIX}{hash_tag(f'{kind}:{ident}')}:{rest}"


def watch_channel(conversation_id: str) -> str:
    """``watch:{<conversation_id>}``: the pub/sub channel of one conversation (sharded on a cluster)."""
    return "watch:" + hash_tag(conversation_id)


def watch_log_key(conversation_id: str) -> str:
    """``watch_log:{cid}``: a watch run's numbered event log (resume from the last event id on any instance)."""
    return "watch_log:" + hash_tag(conversation_id)


def watch_lease_key(conversation_id: str) -> str:
    """``watch_lease:{cid}``: which instance drives the run right now (expires if that instance dies)."""
    return "watch_lease:" + hash_tag(conversation_id)
