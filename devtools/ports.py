"""One job: a free TCP port on 127.0.0.1 for a server a test or benchmark starts (the
replay server, Streamlit, PostgreSQL, the sign-in provider). The operating system picks it."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on right now (bind to port 0, read what the kernel chose)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
