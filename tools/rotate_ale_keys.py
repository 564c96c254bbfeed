"""Re-encrypt every sealed field under the primary ALE key (the middle step of a key rotation).

Rotation without downtime (ADR 0006):
1. deploy with the new key added to ``ALE_KEYS`` and made ``ALE_PRIMARY_KID`` (old key still listed);
2. run this with the same settings as the services (``ENV``, store, ``ALE_KEYS``...), until ``rewritten`` is 0;
3. deploy without the old key.

    python -m tools.rotate_ale_keys            # prints a JSON report; exit 1 if some record could not be read
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict

from workplace_roleplay.bootstrap import build_security, build_store
from workplace_roleplay.domain.identity.key_rotation import reencrypt_everything
from workplace_roleplay.ports import SystemClock
from workplace_roleplay.settings import MigrateSessionSettings


async def rotate() -> int:
    settings = MigrateSessionSettings()
    store = await build_store(settings)
    try:
        cipher = build_security(settings, store, SystemClock()).cipher
        report = await reencrypt_everything(store, cipher)
    finally:
        await store.close()
    print(json.dumps({"primary_kid": cipher.primary_kid, **asdict(report)}, ensure_ascii=False, indent=2))
    return 1 if report.failed else 0


def main() -> None:
    sys.exit(asyncio.run(rotate()))


if __name__ == "__main__":
    main()
