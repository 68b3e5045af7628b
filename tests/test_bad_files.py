"""Bad files, clear words (issue 11, item 6): what `import` says and leaves behind for files
that are not UTF-8 text, periods that cannot be, a store locked by another writer, a large
file, and a run killed half-way. Every case runs the CLI as a user would, on both stores."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bench.import_memory import build, measure
from tests.cli import ROOT, start
from tests.test_cli import ROWS, WFP_HEADER, observations, run

# Two real rows of WFP's global price file for 2016 (HDX, CC BY-IGO;
# /work/shared/data/wfp-food-prices/wfp_food_prices_global_2016.csv): bread in Pointe-Noire's
# "Grand marché", whose name is not ASCII, which is what makes the encodings differ.
COG_HEADER = "countryiso3," + WFP_HEADER.replace("\n#date,", "\n#country+code,#date,", 1)
COG_ROWS = (
    "COG,2016-01-15,Point-Noire,Pointe-Noire,Grand marché/Fond Ntié-Ntié/Nkouikou,707,-4.79,"
    "11.85,cereals and tubers,Bread,55,KG,actual,Retail,XAF,433.3,0.72\n"
    "COG,2016-02-15,Point-Noire,Pointe-Noire,Grand marché/Fond Ntié-Ntié/Nkouikou,707,-4.79,"
    "11.85,cereals and tubers,Bread,55,KG,actual,Retail,XAF,500,0.85\n"
)
COG_SHEET = COG_HEADER + COG_ROWS


def fetch_rows(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("fetch_log"):
                return []
            return conn.execute(
                sa.text("SELECT fetch_id, status, error FROM fetch_log ORDER BY fetch_id")
            ).all()
    finally:
        engine.dispose()


def one_line(done: subprocess.CompletedProcess) -> str:
    """The error output, which must be one line and no traceback."""
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_utf8_and_utf16_with_a_mark_import_the_same_figures(tmp_path, store_url):
    utf8, utf16 = tmp_path / "bread_cog.csv", tmp_path / "utf16" / "bread_cog.csv"
    utf16.parent.mkdir()
    utf8.write_text(COG_SHEET, encoding="utf-8")
    utf16.write_text(COG_SHEET, encoding="utf-16")  # Excel's "Unicode text": with a mark
    for sheet, new, unchanged in ((utf8, 4, 0), (utf16, 0, 4)):
        done = run(store_url, "import", str(sheet), "--source", "wfp")
        assert done.returncode == 0, done.stderr
        assert f"│       4 │   {new} │       0 │         {unchanged} │        0 │" in done.stdout
    assert observations(store_url) == 4  # XAF and USD, two months: the same figures
    shown = run(store_url, "series", "--city", "Pointe-Noire", "--metric", "food_price",
                "--unit", "XAF/KG")  # fmt: skip
    assert "Grand marché/Fond Ntié-Ntié/Nkouikou" in shown.stdout
    assert ",433.3," in shown.stdout and ",500.0," in shown.stdout


def test_latin1_is_refused_with_line_and_column_then_imports_when_named(tmp_path, store_url):
    sheet = tmp_path / "bread_cog.csv"
    sheet.write_bytes(COG_SHEET.encode("latin-1"))
    done = run(store_url, "import", str(sheet))
    assert done.returncode == 2
    assert one_line(done) == (
        "nothing imported: bread_cog.csv: not UTF-8 text: byte 0xE9 at line 3, column 52 cannot "
        "be decoded; save the file as CSV UTF-8, or name its encoding (e.g. --encoding latin-1)"
    )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []
    named = run(store_url, "import", str(sheet), "--encoding", "latin-1")
    assert named.returncode == 0, named.stderr
    shown = run(store_url, "series", "--city", "Pointe-Noire", "--metric", "food_price",
                "--unit", "XAF/KG")  # fmt: skip
    assert "Grand marché/Fond Ntié-Ntié/Nkouikou" in shown.stdout


def test_binary_and_unmarked_utf16_files_are_refused(tmp_path, store_url):
    run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + ROWS)))  # something to keep
    before = observations(store_url), fetch_rows(store_url)
    xlsx = tmp_path / "prices.xlsx"  # a zip, as every .xlsx is: local file header, then NULs
    xlsx.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(200))
    unmarked = tmp_path / "prices_utf16.csv"
    unmarked.write_bytes(COG_SHEET.encode("utf-16-le"))
    for path, at in ((xlsx, 6), (unmarked, 2)):
        done = run(store_url, "import", str(path))
        assert done.returncode == 2
        assert one_line(done) == (
            f"nothing imported: {path.name}: not a text file (a NUL byte at byte {at}; a "
            "spreadsheet's .xlsx, a zip or an image?): export it as CSV UTF-8 and import that"
        )
    assert (observations(store_url), fetch_rows(store_url)) == before
    done = run(store_url, "import", str(xlsx), "--encoding", "klingon")
    assert (done.returncode, one_line(done)) == (
        2,
        "nothing imported: prices.xlsx: unknown encoding 'klingon'",
    )


def _sheet(tmp_path: Path, text: str, name: str = "wfp_food_prices_syr.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_periods_outside_1900_to_2100_are_rejected_with_the_date(tmp_path, store_url):
    # the real rows, one of them with its year mistyped (2106 for 2016) and one dated 1899
    rows = ROWS.replace("2016-02-15", "2106-02-15").replace("2016-03-15", "1899-03-15")
    done = run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + rows)))
    assert done.returncode == 0, done.stderr
    assert "│       6 │   2 │       0 │         0 │        4 │" in done.stdout
    assert "rejected 3: period outside the years 1900–2100:" in done.stdout
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        reasons = sorted(r[0] for r in conn.execute(sa.text("SELECT reason FROM rejects")))
    engine.dispose()
    assert reasons == [  # the price of 1899 is "n/a" in local currency: that is said first
        "period outside the years 1900–2100: starts '1899-03-01'",
        "period outside the years 1900–2100: starts '2106-02-01'",
        "period outside the years 1900–2100: starts '2106-02-01'",
        "value is not a number: 'n/a'",
    ]


def _hold_write_lock(url: str, held: threading.Event, release: threading.Event) -> None:
    """Another writer: a transaction holding the store's write lock from `held` until
    `release` is set (an event, never a number of seconds: on a loaded machine a fixed hold
    could end before the second writer had even started)."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(sa.make_url(url).database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(300)
        conn.execute("ROLLBACK")
        conn.close()
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("LOCK TABLE fetch_log IN EXCLUSIVE MODE")
        held.set()
        release.wait(300)
    engine.dispose()


def _blocked_on_the_lock(url: str, proc: subprocess.Popen) -> bool:
    """Is the writer `proc` waiting for the lock right now? PostgreSQL says so itself (a lock
    it asked for and was not granted); SQLite's busy handler sleeps between its tries, so the
    process is asleep in the kernel (wchan *nanosleep) with the store file open."""
    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                return bool(
                    conn.exec_driver_sql("SELECT count(*) FROM pg_locks WHERE NOT granted").scalar()
                )
        finally:
            engine.dispose()
    store = Path(sa.make_url(url).database).resolve()
    proc_dir = Path(f"/proc/{proc.pid}")
    try:
        opened = any(fd.resolve() == store for fd in (proc_dir / "fd").iterdir())
        return opened and "nanosleep" in (proc_dir / "wchan").read_text()
    except OSError:  # the process is gone (it did not wait): the caller's poll says so
        return False


def _until_blocked(url: str, proc: subprocess.Popen) -> None:
    """Wait (for an event, with a generous bound only against a hang) until `proc` waits."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, ("the writer did not wait for the lock", proc.communicate())
        if _blocked_on_the_lock(url, proc):
            return
        time.sleep(0.05)
    raise AssertionError("the second writer never waited for the lock")


def test_a_second_writer_waits_for_the_lock_then_says_the_store_is_busy(tmp_path, store_url):
    sheet = _sheet(tmp_path, WFP_HEADER + ROWS)
    assert run(store_url, "migrate").returncode == 0
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(store_url, held, release))
    holder.start()
    assert held.wait(60)
    waiting = start(store_url, "import", str(sheet))  # default STORE_LOCK_TIMEOUT: 60 s
    try:
        _until_blocked(store_url, waiting)  # it is waiting for the other writer ...
    finally:
        release.set()  # ... which now finishes
        holder.join()
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err  # then it stored its figures
    assert observations(store_url) == 5

    # a writer that waits 2 s while the lock stays held for its whole life: busy, nothing written
    held.clear()
    release.clear()
    holder = threading.Thread(target=_hold_write_lock, args=(store_url, held, release))
    holder.start()
    assert held.wait(60)
    os.environ["STORE_LOCK_TIMEOUT"] = "2"
    try:
        busy = run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + ROWS, "other.csv")))
    finally:
        del os.environ["STORE_LOCK_TIMEOUT"]
        release.set()
        holder.join()
    assert busy.returncode == 3
    line = one_line(busy)
    assert line.startswith("The store at ") and line.endswith(
        "is busy: another process (an import, a refresh or a snapshot load) kept it locked "
        "for writing longer than this one waits (2 s). Nothing was written; try again when it "
        "has finished, or set STORE_LOCK_TIMEOUT (seconds) to wait longer."
    )
    assert observations(store_url) == 5
    assert [r[1] for r in fetch_rows(store_url)] == ["ok"]


def _until_running(url: str, proc: subprocess.Popen) -> None:
    """Wait until the import has logged its load as running (it is writing now)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if any(status == "running" for _, status, _ in fetch_rows(url)):
            return
        time.sleep(0.2)
    raise AssertionError("the import never started writing")


def test_killed_and_stopped_imports_are_marked_interrupted(tmp_path, store_url):
    big = tmp_path / "conflict_data_irq.csv"
    build(big, 8_000_000)  # real UCDP events repeated: long enough to be caught writing
    assert run(store_url, "migrate").returncode == 0

    killed = start(store_url, "import", str(big))
    _until_running(store_url, killed)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert [r[1] for r in fetch_rows(store_url)] == ["running"]  # nobody said otherwise yet
    done = run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + ROWS)))
    assert done.returncode == 0, done.stderr
    first, second = fetch_rows(store_url)
    assert first[1:] == (
        "failed",
        "interrupted: the process ended before this load committed; nothing of it was stored",
    )
    assert second[1] == "ok"
    assert observations(store_url) == 5  # the killed load left nothing

    stopped = start(store_url, "import", str(big))
    _until_running(store_url, stopped)
    stopped.send_signal(signal.SIGTERM)
    out, err = stopped.communicate(timeout=120)
    assert stopped.returncode == 128 + signal.SIGTERM
    assert err.strip() == "stopped by SIGTERM: nothing of the load under way was stored"
    assert fetch_rows(store_url)[-1][1:] == (
        "failed",
        "interrupted (SIGTERM): stopped before this load committed; nothing of it was stored",
    )
    assert observations(store_url) == 5
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:  # no lease is left behind
        assert conn.exec_driver_sql("SELECT count(*) FROM locks").scalar() == 0
    engine.dispose()


def test_a_live_import_is_not_marked_interrupted_by_another(tmp_path, store_url):
    big = tmp_path / "conflict_data_irq.csv"
    build(big, 8_000_000)
    assert run(store_url, "migrate").returncode == 0
    first = start(store_url, "import", str(big))
    _until_running(store_url, first)
    other = run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + ROWS)))
    out, err = first.communicate(timeout=600)
    assert other.returncode == 0 and first.returncode == 0, (other.stderr, err)
    assert sorted(r[1] for r in fetch_rows(store_url)) == ["ok", "ok"]


def test_import_memory_does_not_grow_with_the_file(tmp_path, store_url):
    small, large = tmp_path / "small" / "conflict_data_irq.csv", tmp_path / "conflict_data_irq.csv"
    small.parent.mkdir()
    events_small = build(small, 4_000_000)
    events_large = build(large, 40_000_000)  # ten times the events, the same places and days
    status, _, peak_small, output = measure(small, store_url)
    assert status == 0, output
    status, _, peak_large, output = measure(large, store_url)
    assert status == 0, output
    assert events_large > 9 * events_small
    assert f"{events_large * 10:,}" in output  # rows in: ten figure rows per event
    # main held the whole file several times over: +1.5 GB per 40 MB; now under 60 MB more
    assert peak_large - peak_small < 60, (peak_small, peak_large)


def test_load_snapshot_marks_loads_of_dead_processes_interrupted(store_url):
    """Leases as a killed load leaves them: its process gone from this host, another host's
    lease run out; a third host's load, still renewing, is left alone."""
    import socket
    from datetime import UTC, datetime, timedelta

    assert run(store_url, "migrate").returncode == 0
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that no longer exists
    now = datetime.now(UTC)
    holders = {  # ids far from the ones the snapshot's loads take
        900_001: (f"{socket.gethostname()}:{gone.pid}:dead", now + timedelta(minutes=2)),
        900_002: ("another-host:4242:lapsed", now - timedelta(seconds=1)),
        900_003: ("third-host:4242:alive", now + timedelta(minutes=2)),
    }
    engine = sa.create_engine(store_url)
    with engine.begin() as conn:
        for fetch_id, (holder, expires) in holders.items():
            conn.execute(
                sa.text(
                    "INSERT INTO fetch_log (fetch_id, source, target, started_at, status) "
                    "VALUES (:i, 'x', 'x.csv', :t, 'running')"
                ),
                {"i": fetch_id, "t": now},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO locks (name, holder, acquired_at, expires_at, detail) "
                    "VALUES (:n, :h, :t, :e, '')"
                ),
                {"n": f"load:{fetch_id}", "h": holder, "t": now, "e": expires},
            )
    engine.dispose()
    done = run(store_url, "load-snapshot")
    assert done.returncode == 0, done.stderr
    rows = {i: (status, error) for i, status, error in fetch_rows(store_url) if i in holders}
    interrupted = (
        "failed",
        "interrupted: the process ended before this load committed; nothing of it was stored",
    )
    assert rows == {900_001: interrupted, 900_002: interrupted, 900_003: ("running", None)}


# --- issue 19, item 6: every input of the hostile corpus is one line and an exit status ---


def _run(url: str, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    """The CLI as a user runs it, with extra settings; a hang fails the test (TimeoutExpired)."""
    return subprocess.run(
        [sys.executable, "-m", "data_sources", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _refused(done: subprocess.CompletedProcess, status: int = 2) -> str:
    assert done.returncode == status, (done.returncode, done.stderr)
    return one_line(done)


ENCODINGS_NOT_TEXT = ["rot13", "base64", "zlib", "hex", "undefined", "uu", "bz2"]


def test_encodings_that_are_not_text_encodings_are_refused(tmp_path, store_url):
    sheet = _sheet(tmp_path, WFP_HEADER + ROWS)
    for codec in ENCODINGS_NOT_TEXT:
        line = _refused(_run(store_url, "import", str(sheet), "--encoding", codec))
        assert line == (
            f"nothing imported: {sheet.name}: '{codec}' is not a text encoding (name one such "
            "as utf-8, latin-1, cp1252, utf-16)"
        )
    line = _refused(_run(store_url, "import", str(sheet), "--encoding", "utf-16"))
    assert line.startswith(f"nothing imported: {sheet.name}: cannot be read as UTF-16 (")
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def _export_zip(path: Path, member: bytes) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("figures_hxl.csv", member)
    return path


def test_a_zip_with_a_corrupt_member_is_refused(tmp_path, store_url):
    archive = _export_zip(tmp_path / "export.zip", ((WFP_HEADER + ROWS) * 50).encode())
    data = bytearray(archive.read_bytes())
    for at in (60, 80, 100):  # inside the deflated member, after its local header
        data[at] ^= 0xFF
    archive.write_bytes(bytes(data))
    line = _refused(_run(store_url, "import", str(archive)))
    assert line.startswith(
        "nothing imported: export.zip/figures_hxl.csv: a corrupt or unsupported ZIP ("
    )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def _bomb(path: Path, megabytes: int) -> Path:
    """A ZIP whose member inflates to `megabytes` MB of newlines (about 1,000 times its size),
    written through zipfile in 1 MB blocks: never held whole in memory."""
    import zipfile

    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("figures_hxl.csv", "w", force_zip64=True) as member,
    ):
        block = b"\n" * (1 << 20)
        for _ in range(megabytes):
            member.write(block)
    return path


def test_a_zip_bomb_is_refused_by_ratio_and_by_size(tmp_path, store_url):
    bomb = _bomb(tmp_path / "bomb.zip", 40)
    assert bomb.stat().st_size < 200_000  # 40 MB in under 200 KB
    line = _refused(_run(store_url, "import", str(bomb)))
    assert line.startswith("nothing imported: bomb.zip/figures_hxl.csv: expands ")
    assert "times (more than ZIP_MAX_RATIO, 100): not an export of this app, refused" in line
    # past the ratio (a member whose header understates it): the size limit, while reading
    line = _refused(
        _run(store_url, "import", str(bomb), ZIP_MAX_RATIO="1e9", IMPORT_MAX_BYTES="5000000")
    )
    assert line.startswith(
        "nothing imported: bomb.zip/figures_hxl.csv: larger than 5,000,000 bytes, the most an "
        "import reads"
    )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def test_devices_fifos_and_directories_are_refused_without_reading(tmp_path, store_url):
    fifo = tmp_path / "prices.csv"
    os.mkfifo(fifo)  # nobody writes to it: opening it for reading would wait forever
    for path, kind in (
        (Path("/dev/zero"), "a device"),
        (Path("/dev/null"), "a device"),
        (fifo, "a named pipe (FIFO)"),
        (tmp_path, "a directory"),
    ):
        for extra in ((), ("--encoding", "latin-1")):
            line = _refused(_run(store_url, "import", str(path), *extra, timeout=60))
            assert line == (
                f"nothing imported: {path.name}: {kind}, not a file: only regular files are "
                "imported"
            )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def test_a_file_over_the_byte_limit_is_refused_before_it_is_parsed(tmp_path, store_url):
    # one real row repeated (the corpus's 300 MB file; a 1 MB limit shows the same rule)
    row = ROWS.splitlines(keepends=True)[1]
    sheet = tmp_path / "wfp_food_prices_syr.csv"
    with sheet.open("w", encoding="utf-8") as out:
        out.write(WFP_HEADER)
        out.write(row * (2_000_000 // len(row)))
    limit = {"IMPORT_MAX_BYTES": "1000000"}
    line = _refused(_run(store_url, "import", str(sheet), **limit))
    assert line == (
        "nothing imported: wfp_food_prices_syr.csv: larger than 1,000,000 bytes, the most an "
        "import reads (split the file, or raise IMPORT_MAX_BYTES if the machine has the memory: "
        "about 25 times the file)"
    )
    one_long_line = tmp_path / "one_line.csv"
    one_long_line.write_text(WFP_HEADER + row.strip() * (2_000_000 // len(row)))
    assert _refused(_run(store_url, "import", str(one_long_line), **limit)).startswith(
        "nothing imported: one_line.csv: larger than 1,000,000 bytes"
    )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def test_a_nul_byte_after_the_first_64_kb_refuses_the_file(tmp_path, store_url):
    body = ROWS * (70_000 // len(ROWS) + 1)  # the real rows again and again, past 64 KB
    last = ROWS.splitlines()[1].replace("Aleppo", "Ale\x00ppo", 1)
    sheet = _sheet(tmp_path, WFP_HEADER + body + last + "\n")
    at = (WFP_HEADER + body).count("\n") + 1
    assert len((WFP_HEADER + body).encode()) > 64 * 1024
    for extra in ((), ("--encoding", "latin-1")):
        line = _refused(_run(store_url, "import", str(sheet), *extra))
        assert line == (
            f"nothing imported: {sheet.name}: not a text file (a NUL byte on line {at:,}; a "
            "spreadsheet's .xlsx, a zip or an image?): export it as CSV UTF-8 and import that"
        )
    assert observations(store_url) == 0 and fetch_rows(store_url) == []


def test_a_clock_no_day_has_is_rejected_not_moved_to_the_next_day(tmp_path, store_url):
    import pandas as pd

    from data_sources.model.dates import calendar_days

    said = ["2016-01-15T25:00", "2016-01-15T12:75", "2016-01-15T12:00+99:00", "2016-01-15T24:00"]
    assert calendar_days(pd.Series(said)).tolist() == [None] * 4
    assert calendar_days(pd.Series(["2016-01-15T23:59", "2016-01-15T22:00-03:00"])).tolist() == [
        "2016-01-15",
        "2016-01-16",
    ]
    # a column that mixes offsets is read day by day: there T25:00 once became 16 January
    rows = ROWS.replace("2016-01-15", "2016-01-15T25:00", 1).replace(
        "2016-02-15", "2016-02-15T00:00+00:00"
    )
    done = _run(store_url, "import", str(_sheet(tmp_path, WFP_HEADER + rows)))
    assert done.returncode == 0, done.stderr
    engine = sa.create_engine(store_url)
    with engine.connect() as conn:
        reasons = [r[0] for r in conn.execute(sa.text("SELECT reason FROM rejects"))]
    engine.dispose()
    assert "unreadable period start '2016-01-15T25:00'" in reasons


def test_postgres_scheme_is_one_line_for_every_command(tmp_path):
    url = "postgres://situation:canary-pw-1@127.0.0.1:9/store"
    for command in (["migrate"], ["migrate", "--check"], ["refresh", "--source", "wfp"],
                    ["import", str(_sheet(tmp_path, WFP_HEADER + ROWS))], ["load-snapshot"],
                    ["series", "--city", "Aleppo", "--metric", "food_price"]):  # fmt: skip
        line = _refused(_run(url, *command), status=1)
        assert line.startswith("DATABASE_URL postgres://situation:***@127.0.0.1:9/store is not")
        assert "Write postgresql+psycopg:// where it says postgres://." in line
        assert "canary-pw-1" not in line


MARKUP = "[link=https://evil.example/]click[/link][bold red]"


def test_file_names_and_sources_print_as_text_not_markup(tmp_path, store_url):
    named = tmp_path / f"{MARKUP.replace('/', '')}.csv"
    named.write_text(WFP_HEADER + ROWS, encoding="utf-8")
    done = _run(store_url, "import", str(named), "--source", MARKUP)
    assert done.returncode == 0, done.stderr
    title = " ".join(done.stdout.split())
    assert MARKUP in title  # the brackets shown as they are, not taken as a link and a style
    assert named.name in done.stdout.replace("\n", "").replace(" ", "") or named.stem[:20] in title
    with_reasons = tmp_path / "rejects.csv"
    with_reasons.write_text(WFP_HEADER + ROWS.replace("2016-01-15", MARKUP.replace(",", ""), 1))
    done = _run(store_url, "import", str(with_reasons))
    assert done.returncode == 0, done.stderr
    # the summary names the reason (its quoted cell is left to the rejects table), and nothing
    # of the cell became a terminal link or a style
    assert "rejected 2: unreadable period start" in done.stdout
    assert "\x1b]8;" not in done.stdout and "evil.example" not in done.stdout.replace(MARKUP, "")


def test_a_feeds_error_prints_as_text_in_the_refresh_summary():
    from rich.console import Console

    from data_sources import cli
    from data_sources.feeds.refresh import SourceReport

    report = SourceReport(
        source="hapi", target="x", status="failed", error=f"HTTP 500 from the feed: {MARKUP}"
    )
    console = Console(record=True, width=400, force_terminal=True)
    cli._summary([report], out=console)
    assert MARKUP in console.export_text()
    assert "evil.example" not in console.export_html(inline_styles=True).split(MARKUP)[0]
