"""The Python sandbox against real bubblewrap: what the code can reach, and how each limit ends it.

Nothing is mocked on the sandbox's side: the code runs in real namespaces, the network test
listens on a real loopback socket, and the fork bomb is a real one. Only the missing-bubblewrap
and refused-namespaces cases replace the bwrap lookup.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesay.tools import sandbox
from seesay.tools.base import ToolError
from seesay.tools.sandbox import Limits, RunResult, python_tool, run_python, unavailable

REASON = unavailable()
needs_sandbox = pytest.mark.skipif(REASON is not None, reason=f"no sandbox on this machine: {REASON}")


def _sandbox_processes() -> list[int]:
    """Host processes that belong to a sandbox run (bwrap's and the code's command lines name the file)."""
    marker = sandbox.CODE_PATH.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _assert_nothing_left() -> None:
    deadline = time.monotonic() + 3
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _sandbox_processes() == []


@pytest.fixture
def loopback_server() -> Iterator[tuple[int, list[int]]]:
    """A TCP server on 127.0.0.1 counting the connections it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    accepted = [0]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            accepted[0] += 1
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        server.close()


@needs_sandbox
def test_prints_and_returns_output() -> None:
    result = run_python("import sys\nprint('hello', 6 * 7)\nprint('oops', file=sys.stderr)\nsys.exit(3)")
    assert result.stdout == "hello 42\n"
    assert result.stderr == "oops\n"
    assert (result.exit_code, result.killed) == (3, None)
    text = result.describe()
    assert "hello 42" in text and "oops" in text and "Exit status: 3" in text


@needs_sandbox
def test_no_network(loopback_server: tuple[int, list[int]]) -> None:
    port, accepted = loopback_server
    # the test's own connection proves the server answers
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    deadline = time.monotonic() + 2
    while accepted[0] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert accepted[0] == 1
    code = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("connected")
except OSError as e:
    print("failed", type(e).__name__)
try:
    socket.getaddrinfo("example.com", 80)
    print("resolved")
except OSError as e:
    print("no dns", type(e).__name__)
"""
    result = run_python(code)
    assert result.exit_code == 0, result.describe()
    assert "failed" in result.stdout and "no dns" in result.stdout
    assert "connected" not in result.stdout and "resolved" not in result.stdout
    time.sleep(0.2)
    assert accepted[0] == 1


@needs_sandbox
def test_host_files_are_not_visible(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    # readable by anyone, so only the sandbox's mounts can hide it (as root it runs as nobody)
    secret.chmod(0o644)
    for folder in (tmp_path, *tmp_path.parents):
        folder.chmod(0o755)
        if folder == tmp_path_factory.getbasetemp():
            break
    home = Path.home()
    paths = [str(secret), str(tmp_path), __file__, str(Path(sys.executable).parent), str(home)]
    paths += [str(p) for p in sorted(home.iterdir())[:20]] if home.is_dir() else []
    code = f"""
import json, os
for path in {paths!r}:
    try:
        if os.path.isdir(path):
            print("LISTED", path, os.listdir(path))
        else:
            print("READ", path, open(path).read(10))
    except OSError as e:
        print("hidden", path, type(e).__name__)
print("root:", json.dumps(os.listdir("/")))
print("etc:", json.dumps(os.listdir("/etc")))
print("tmp:", json.dumps(os.listdir("/tmp")))
"""
    result = run_python(code)
    assert result.exit_code == 0, result.describe()
    assert "READ" not in result.stdout and "LISTED" not in result.stdout, result.stdout
    assert "private" not in result.stdout
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    _, extra = sandbox._interpreter()
    system = {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sandbox", "sbin", "tmp", "usr"}
    allowed = system | {Path(d).parts[1] for d in extra}
    assert set(json.loads(lines["root"])) <= allowed
    assert set(json.loads(lines["etc"])) <= {"alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d"}
    assert json.loads(lines["tmp"]) == []


@needs_sandbox
def test_writes_stay_in_the_private_directory() -> None:
    name = f"seesay-{uuid.uuid4().hex}.txt"
    code = f"""
import os
with open({name!r}, "w") as f:
    f.write("made inside")
print(os.getcwd(), open({name!r}).read())
for path in ("/usr/x", "/x", "/dev/x", "/sandbox/main.py"):
    try:
        open(path, "w").write("x")
        print("WROTE", path)
    except OSError:
        pass
"""
    result = run_python(code)
    assert result.exit_code == 0, result.describe()
    assert result.stdout.startswith(f"{sandbox.WORK_DIR} made inside")
    assert "WROTE" not in result.stdout
    assert not (Path(sandbox.WORK_DIR) / name).exists()
    again = run_python(f"import os\nprint(os.path.exists({name!r}), os.listdir('.'))")
    assert again.stdout == "False []\n"


@needs_sandbox
def test_cpu_limit_ends_a_busy_loop() -> None:
    result = run_python("print('start')\nwhile True: pass", Limits(cpu_seconds=2))
    assert result.killed == "CPU time limit (2 s)"
    assert result.exit_code is None
    assert result.stdout == "start\n"  # unbuffered: output before the kill survives
    assert result.duration_s < 6
    assert "CPU time limit" in result.describe()
    _assert_nothing_left()


@needs_sandbox
def test_wall_clock_limit_ends_a_sleeper() -> None:
    result = run_python("import time\ntime.sleep(60)", Limits(wall_seconds=1))
    assert result.killed == "wall-clock limit (1 s)"
    assert result.exit_code is None
    assert 1 <= result.duration_s < 3
    _assert_nothing_left()


@needs_sandbox
def test_memory_limit_stops_a_big_allocation() -> None:
    result = run_python("data = bytearray(1024 * 1024 * 1024)\nprint(len(data))", Limits(memory_mb=256))
    assert result.killed == "memory limit (256 MB)"
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "MemoryError" in result.stderr


@needs_sandbox
def test_output_limit_truncates() -> None:
    result = run_python("while True:\n    print('x' * 100)", Limits(output_bytes=1000))
    assert result.killed == "output limit (1,000 bytes)"
    assert 0 < len(result.stdout.encode()) <= 1000
    assert result.stdout.startswith("x" * 100)
    assert result.duration_s < 3
    _assert_nothing_left()


@needs_sandbox
def test_file_size_limit() -> None:
    result = run_python("open('big', 'wb').write(b'x' * (3 * 1024 * 1024))", Limits(file_mb=2))
    assert result.killed == "file size limit (2 MB)"
    assert result.exit_code == 1


@needs_sandbox
def test_process_limit_caps_children() -> None:
    code = """
import os, time
children = 0
try:
    for _ in range(100):
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        children += 1
except OSError as e:
    print(children, type(e).__name__)
"""
    result = run_python(code, Limits(processes=16))
    assert result.exit_code == 0, result.describe()
    children, error = result.stdout.split()
    assert 8 <= int(children) < 16 and error == "BlockingIOError"
    assert result.duration_s < 5  # the children die with the program, not at the wall-clock limit
    _assert_nothing_left()


@needs_sandbox
def test_fork_bomb_ends_and_the_app_is_fine() -> None:
    result = run_python("import os\nwhile True:\n    os.fork()", Limits(processes=32, wall_seconds=10))
    assert result.killed in ("process limit (32)", "output limit (64,000 bytes)"), result.describe()
    assert result.duration_s < 5
    _assert_nothing_left()
    alive = subprocess.run([sys.executable, "-c", "print('alive')"], capture_output=True, text=True)
    assert alive.stdout == "alive\n"


@needs_sandbox
def test_background_children_do_not_outlive_the_run() -> None:
    code = """
import os, time
if os.fork() == 0:
    os.setsid()
    os.close(1)
    os.close(2)
    time.sleep(60)
    os._exit(0)
print("parent done")
"""
    result = run_python(code)
    assert (result.exit_code, result.killed, result.stdout) == (0, None, "parent done\n")
    assert result.duration_s < 5
    _assert_nothing_left()


@needs_sandbox
def test_python_tool() -> None:
    tool = python_tool(Limits(cpu_seconds=2))
    assert tool.name == "run_python" and tool.side_effects
    assert tool.parameters["required"] == ["code"]
    assert "no network" in tool.description
    ok = tool.call({"code": "print(sum(range(10)))"})
    assert ok.content.startswith("stdout:\n45")
    assert (ok.is_error, ok.untrusted, ok.source) == (False, True, "python output")
    failed = tool.call({"code": "raise SystemExit('bad input')"})
    assert failed.is_error and "bad input" in failed.content
    missing = tool.call({})
    assert missing.is_error and "code" in missing.content


def test_describe_without_output() -> None:
    text = RunResult("", "", None, "wall-clock limit (20 s)", 20.01).describe()
    assert text == "(no output)\n\nStopped by the sandbox: wall-clock limit (20 s), after 20.0 s"


def test_missing_bubblewrap_runs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []

    def no_process(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError("a process was started")

    monkeypatch.setattr(sandbox, "bwrap_path", lambda: "/nonexistent/bin/bwrap")
    monkeypatch.setattr(subprocess, "Popen", no_process)
    reason = unavailable()
    assert reason is not None and "bubblewrap" in reason
    with pytest.raises(ToolError, match="bubblewrap"):
        run_python("print('should not run')")
    result = python_tool().call({"code": "print('should not run')"})
    assert result.is_error and "bubblewrap" in result.content
    assert started == []


def test_refused_namespaces_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because the kernel "
        "does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_path", lambda: str(fake))
    monkeypatch.setattr(sandbox, "_host_user", dict)
    reason = unavailable()
    assert reason is not None and "not permitted to create namespaces" in reason
    with pytest.raises(ToolError, match="namespaces"):
        run_python("print(1)")
