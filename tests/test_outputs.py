"""dashboard/outputs.py: whole-or-nothing outputs, modes, symlinks, signals, stale temps."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import default_signals
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import outputs
from dashboard.errors import DashboardError, OutputError

REPO = Path(__file__).resolve().parent.parent


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


@pytest.fixture
def umask():
    """Set a umask for one test and restore the previous one."""
    saved: list[int] = []

    def set_(mask: int) -> None:
        saved.append(os.umask(mask))

    yield set_
    if saved:
        os.umask(saved[0])


def test_writes_whole_file_and_leaves_no_temp(tmp_path):
    out = tmp_path / "out.csv"
    with outputs.atomic_output(out, newline="") as fh:
        fh.write("a,b\r\n1,2\r\n")
        assert not out.exists()  # nothing visible until the block ends
        assert len(_temps(tmp_path)) == 1
    assert out.read_bytes() == b"a,b\r\n1,2\r\n"
    assert _temps(tmp_path) == []


def test_error_inside_block_keeps_old_file_and_removes_temp(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(RuntimeError), outputs.atomic_output(out) as fh:
        fh.write("new, half written")
        raise RuntimeError("boom")
    assert out.read_text() == "old"
    assert _temps(tmp_path) == []


def test_binary_and_helpers(tmp_path):
    outputs.write_bytes(tmp_path / "b.bin", b"\x00\xff")
    outputs.write_text(tmp_path / "t.txt", "é\n")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert (tmp_path / "t.txt").read_bytes() == "é\n".encode()


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_new_file_mode_follows_umask(tmp_path, umask, mask, expected):
    umask(mask)
    out = tmp_path / "m.txt"
    outputs.write_text(out, "x")
    assert stat.S_IMODE(out.stat().st_mode) == expected


def test_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    out = tmp_path / "keep.txt"
    out.write_text("old")
    out.chmod(0o600)
    outputs.write_text(out, "new")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600 and out.read_text() == "new"


def test_symlink_is_written_through(tmp_path):
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "data.geojson"
    target.write_text("old")
    link = tmp_path / "link.geojson"
    link.symlink_to(target)
    outputs.write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert _temps(tmp_path) == [] and _temps(real_dir) == []


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "later.txt")
    outputs.write_text(link, "x")
    assert link.is_symlink() and (tmp_path / "later.txt").read_text() == "x"


def test_longest_legal_name_works(tmp_path):
    name = "n" * 251 + ".csv"  # 255 bytes: the temp name must not be derived from it
    outputs.write_text(tmp_path / name, "ok")
    assert (tmp_path / name).read_text() == "ok"
    assert _temps(tmp_path) == []


def test_longest_legal_multibyte_name_works(tmp_path):
    name = "é" * 125 + ".txt"  # 254 bytes in UTF-8
    outputs.write_text(tmp_path / name, "ok")
    assert (tmp_path / name).read_text() == "ok"


def _one_sentence(err: Exception) -> str:
    msg = str(err)
    assert isinstance(err, DashboardError)
    assert "\n" not in msg and msg.endswith(".") and msg[0].isupper(), msg
    assert "Errno" not in msg and "Traceback" not in msg
    return msg


@pytest.mark.parametrize("case", ["empty", "folder", "missing", "too_long", "file_as_folder",
                                  "trailing_slash"])
def test_user_errors_are_one_sentence(tmp_path, case):
    path = {
        "empty": "",
        "folder": str(tmp_path),
        "missing": str(tmp_path / "no" / "such" / "out.csv"),
        "too_long": str(tmp_path / ("n" * 256)),
        "file_as_folder": str(tmp_path / "f.txt" / "out.csv"),
        "trailing_slash": str(tmp_path / "new") + "/",
    }[case]
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(OutputError) as exc:
        outputs.write_text(path, "x")
    msg = _one_sentence(exc.value)
    word = {"empty": "empty", "folder": "folder", "missing": "does not exist",
            "too_long": "too long", "file_as_folder": "not a folder",
            "trailing_slash": "separator"}[case]
    assert word in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_unwritable_folder_is_one_sentence():
    base = tempfile.TemporaryDirectory()  # under /tmp: other users can reach it
    locked = Path(base.name) / "locked"
    locked.mkdir()
    Path(base.name).chmod(0o755)
    drop = "os.setuid(65534)" if os.geteuid() == 0 else "pass"  # root ignores permissions
    code = textwrap.dedent(f"""
        import os, sys
        from dashboard import outputs
        from dashboard.errors import OutputError
        {drop}
        try:
            outputs.write_text({str(locked / "out.csv")!r}, "x")
        except OutputError as err:
            print(err)
            sys.exit(3)
    """)
    locked.chmod(0o755 if os.geteuid() == 0 else 0o555)
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=60, check=False,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    finally:
        locked.chmod(0o755)
        listing = list(locked.iterdir())
        base.cleanup()
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.count("\n") == 1 and "not writable" in proc.stdout
    assert listing == []


def test_dash_means_standard_output(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    outputs.write_text("-", "hello\n")
    assert capsys.readouterr().out == "hello\n"
    assert not (tmp_path / "-").exists()
    with pytest.raises(OutputError):
        outputs.write_bytes("-", b"x")


def test_device_path_is_written_directly():
    outputs.write_text("/dev/null", "discarded")  # no temp file next to /dev/null, no rename
    assert Path("/dev/null").is_char_device()


def test_stale_temp_of_dead_process_is_removed_live_one_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        tag = outputs._HOST_TAG
        stale = tmp_path / f".dash-{tag}-{dead_pid}-0123abcd.part"
        alive = tmp_path / f".dash-{tag}-{live.pid}-0123abcd.part"
        other = tmp_path / ".someone-else.part"
        for p in (stale, alive, other):
            p.write_text("partial")
        outputs.write_text(tmp_path / "out.txt", "x")
        assert not stale.exists()
        assert alive.exists() and other.exists()
    finally:
        live.kill()
        live.wait()


_SIGNAL_CHILD = textwrap.dedent("""
    import signal, sys, time
    from dashboard import outputs
    before = {s: signal.getsignal(s) for s in outputs.CLEANUP_SIGNALS}
    with outputs.atomic_output(sys.argv[1]) as fh:
        fh.write("partial")
        fh.flush()
        print("writing", flush=True)
        time.sleep(60)
    print("finished", flush=True)
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_while_writing_removes_temp(tmp_path, sig):
    out = tmp_path / "out.txt"
    proc = subprocess.Popen([sys.executable, "-c", _SIGNAL_CHILD, str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)},
                            preexec_fn=default_signals)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert len(_temps(tmp_path)) == 1
        proc.send_signal(sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0
    assert _temps(tmp_path) == [] and not out.exists()


def test_sigkill_leaves_temp_that_next_write_removes(tmp_path):
    out = tmp_path / "out.txt"
    proc = subprocess.Popen([sys.executable, "-c", _SIGNAL_CHILD, str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert len(_temps(tmp_path)) == 1  # SIGKILL cannot be caught …
    outputs.write_text(out, "done")  # … so the next write to the folder removes it
    assert _temps(tmp_path) == [] and out.read_text() == "done"


def test_handlers_installed_only_while_writing_and_restored(tmp_path):
    def mine(signum, frame):  # pragma: no cover - never called
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        with outputs.atomic_output(tmp_path / "a.txt") as fh:
            fh.write("x")
            assert signal.getsignal(signal.SIGTERM) is outputs._on_signal
        assert signal.getsignal(signal.SIGTERM) is mine
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ignored_signal_stays_ignored(tmp_path):
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with outputs.atomic_output(tmp_path / "a.txt") as fh:
            fh.write("x")
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_works_outside_the_main_thread(tmp_path):
    """Streamlit runs page scripts in a worker thread, where signal handlers cannot be set."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            outputs.write_text(tmp_path / "t.txt", "thread")
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == [] and (tmp_path / "t.txt").read_text() == "thread"


def test_concurrent_writers_never_show_a_partial_file(tmp_path):
    out = tmp_path / "shared.txt"
    payloads = [str(i) * 200_000 for i in range(4)]
    seen: set[str] = set()
    stop = time.monotonic() + 5

    def writer(text: str) -> None:
        for _ in range(5):
            outputs.write_text(out, text)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads) and time.monotonic() < stop:
        if out.exists():
            seen.add(out.read_text())
    for t in threads:
        t.join()
    assert seen <= set(payloads)
    assert out.read_text() in payloads and _temps(tmp_path) == []


def test_failing_block_prints_nothing_on_standard_output(capsys):
    with pytest.raises(ValueError), outputs.atomic_output("-") as fh:
        fh.write("half of a CSV\n")
        raise ValueError("bad row")
    assert capsys.readouterr().out == ""


@settings(max_examples=60, deadline=None)
@given(text=st.text(), newline=st.sampled_from([None, "", "\n", "\r\n"]))
def test_any_text_is_written_exactly(tmp_path_factory, text, newline):
    out = tmp_path_factory.mktemp("prop") / "t.txt"
    outputs.write_text(out, text, newline=newline)
    with open(out, encoding="utf-8", errors="surrogatepass", newline="") as fh:
        expected = text if newline in (None, "", "\n") else text.replace("\n", newline)
        assert fh.read() == expected


def test_abandoned_temp_of_the_earlier_writer_is_removed(tmp_path):
    out = tmp_path / "out.csv"
    old = tmp_path / ".out.csv.k3j_x9a2.part"  # what tempfile.mkstemp left before
    fresh = tmp_path / ".out.csv.abcdefgh.part"
    for p in (old, fresh):
        p.write_text("partial")
    past = time.time() - 3600
    os.utime(old, (past, past))
    outputs.write_text(out, "x")
    assert not old.exists() and fresh.exists()  # a fresh one may still be being written
