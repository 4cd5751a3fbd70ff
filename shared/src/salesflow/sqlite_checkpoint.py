"""WAL checkpoints of a SQLite file on a thread of their own.

A checkpoint copies the WAL back into the database file and syncs both to disk. SQLite runs it
inside whichever COMMIT crosses ``wal_autocheckpoint`` pages - here that is the event loop's
thread (see ``sqlite_inline``), stalled 5-15 ms by the sync while Kafka fetches, heartbeats and
requests wait. The service's connections therefore turn automatic checkpoints off and this
thread runs a PASSIVE checkpoint (it never blocks readers or writers) every ``interval_s``;
SQLite releases the GIL meanwhile. Should the thread be gone, the last connection to close
still checkpoints the file.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from urllib.parse import quote

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 0.2


class WalCheckpointer:
    def __init__(self, path: str, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"wal-checkpoint {path}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    if conn is None:  # mode=rw: never creates the file, waits for it
                        uri = f"file:{quote(self.path)}?mode=rw"
                        conn = sqlite3.connect(uri, uri=True, timeout=1.0)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:  # the file busy or not there yet: next round
                    log.debug("WAL checkpoint of %s skipped: %r", self.path, exc)
        finally:
            if conn is not None:
                conn.close()
