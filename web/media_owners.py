"""Whose is a download: the sessions that made a `/media/…` file, and their signed-in users.

Streamlit serves a download button's file at `/media/<id>.<ext>` to whoever has the URL. With
sign-in on, the middleware serves it only to the signed-in user of a session that made it. A
file drawn by a script run is mapped to its session by Streamlit's media manager; a file made
when the button is clicked (a deferred download, built on demand) is not, so the manager's
`execute_deferred` is wrapped to note the session that clicked. Both read Streamlit's own
bookkeeping (private attributes of 1.67); tests/test_media_access.py fails if they change."""

from __future__ import annotations

import threading
from collections import OrderedDict

from data_sources import roles

_LOCK = threading.Lock()
_DEFERRED: OrderedDict[str, set[str]] = OrderedDict()  # file id -> sessions that made it
_KEEP = 10_000  # file ids remembered (oldest forgotten first)
_INSTALLED: set[int] = set()


def _runtime():
    from streamlit.runtime import Runtime

    return Runtime.instance() if Runtime.exists() else None


def file_id(path_tail: str) -> str:
    """`/media/<id>.<ext>` → `<id>` (Streamlit's ids are hex digests, no dot)."""
    return path_tail.rsplit("/", 1)[-1].split(".", 1)[0]


def install() -> None:
    """Wrap the media manager's `execute_deferred` once per runtime (idempotent)."""
    runtime = _runtime()
    if runtime is None or id(runtime) in _INSTALLED:
        return
    manager = runtime.media_file_mgr
    original = manager.execute_deferred

    def execute_deferred(placeholder: str) -> str:
        with manager._lock:
            entry = manager._deferred_callables.get(placeholder)
        url = original(placeholder)
        if entry:
            with _LOCK:
                made = _DEFERRED.setdefault(file_id(url), set())
                made.add(entry["session_id"])
                _DEFERRED.move_to_end(file_id(url))
                while len(_DEFERRED) > _KEEP:
                    _DEFERRED.popitem(last=False)
        return url

    manager.execute_deferred = execute_deferred
    _INSTALLED.add(id(runtime))


def sessions_of(fid: str) -> set[str]:
    runtime = _runtime()
    if runtime is None:
        return set()
    manager = runtime.media_file_mgr
    with manager._lock:
        drawn = {
            sid
            for sid, files in manager._files_by_session_and_coord.items()
            if fid in files.values()
        }
    with _LOCK:
        clicked = set(_DEFERRED.get(fid, ()))
    return drawn | clicked


def owner_addresses(fid: str) -> set[str]:
    """The normalised addresses of the signed-in users of the sessions that made `fid`."""
    runtime = _runtime()
    if runtime is None:
        return set()
    found = set()
    for sid in sessions_of(fid):
        info = runtime._session_mgr.get_session_info(sid)
        user = dict(getattr(info.session, "_user_info", {}) or {}) if info else {}
        address = roles.normalise(user.get("email") or "") if user.get("is_logged_in") else None
        if address:
            found.add(address)
    return found
