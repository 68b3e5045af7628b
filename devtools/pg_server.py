"""A real PostgreSQL server for the tests, started from Debian's `postgresql` binaries.

initdb + pg_ctl in a temporary folder, on a free port of 127.0.0.1, stopped at the end of the
session. PostgreSQL refuses to run as root, so when the suite runs as root (CI does) the server
runs as the `postgres` user that Debian's package creates. Durability is switched off: a test
server that loses its data on a crash loses nothing anyone needs, and fsync made it slow.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import sqlalchemy as sa

from devtools.ports import free_port


def postgres_bin() -> Path | None:
    """Debian's newest installed PostgreSQL bin folder (`make test` installs the package)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """One throwaway cluster; `new_database()` hands out a fresh, empty database per test."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        if self.bin is None:
            raise RuntimeError(
                "PostgreSQL binaries not found under /usr/lib/postgresql: "
                "`make test` installs Debian's postgresql package"
            )
        self.data = Path(tempfile.mkdtemp(prefix="situation-room-pg-"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    @classmethod
    def attach(cls, data: str, port: int) -> PostgresServer:
        """The server another process started (its data folder and port): to use or stop."""
        server = cls.__new__(cls)
        server.bin = postgres_bin()
        server.data, server.port, server.as_root = Path(data), int(port), os.geteuid() == 0
        return server

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")

    def start(self) -> PostgresServer:
        if self.as_root:
            shutil.chown(self.data, "postgres")
        os.chmod(self.data, 0o700)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.data / "log"),
            "-w",
            "start",
        )
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.data, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None, name: str | None = None) -> str:
        """A new database (a copy of `template` when given, which is fast: files are copied,
        nothing is re-inserted); returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                suffix = f' TEMPLATE "{template}"' if template else ""
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
        finally:
            admin.dispose()
        return self.url(name)
