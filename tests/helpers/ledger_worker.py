"""A child process that appends evidence and prints each committed receipt.

Usage: python ledger_worker.py WORKSPACE COUNT BATCH [DATABASE_URL]
COUNT 0 means forever (until killed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from assay.ledger import Evidence, Subject
from assay.workspace import open_workspace


def main() -> None:
    root, count, batch = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    if len(sys.argv) > 4:
        os.environ["ASSAY_DATABASE_URL"] = sys.argv[4]
    ws = open_workspace(root)
    done, pid = 0, os.getpid()
    while count == 0 or done < count:
        size = batch if count == 0 else min(batch, count - done)
        receipts = ws.ledger.append(
            [
                Evidence(
                    type="assay.dev/note/v1",
                    actor=f"worker-{pid}",
                    subject=Subject("bot"),
                    summary={"n": done + i},
                    payload=b'{"x": 1}' if (done + i) % 7 == 0 else None,
                )
                for i in range(size)
            ]
        )
        sys.stdout.write("".join(f"{r.seq} {r.leaf_hash.hex()}\n" for r in receipts))
        sys.stdout.flush()
        done += size
    ws.close()


if __name__ == "__main__":
    main()
