"""run_python: the model's Python code run inside a bubblewrap sandbox, never on the host as is.

Code written by a model is untrusted: it may be wrong, wasteful, or steered by a web page the
model read. It runs in fresh namespaces (no network, its own process tree, no user namespace
of its own to escalate from) with only the system's own read-only directories mounted, so the
user's files, keys and history are not even visible; the one writable place is an empty,
size-capped tmpfs that disappears with the run. Resource limits are set inside the sandbox,
after the namespaces exist, and the parent enforces a wall-clock deadline and an output cap by
killing the whole sandbox.

The kernel never counts root's processes against RLIMIT_NPROC, so when the app runs as root
the sandbox is started as ``nobody``; without that a fork bomb would run unchecked.

There is no fallback: when bubblewrap is missing or the kernel refuses it namespaces,
:func:`run_python` raises :class:`~seesay.tools.base.ToolError` and nothing runs.
"""

from __future__ import annotations

import functools
import logging
import os
import pwd
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seesay.tools.base import Tool, ToolError, ToolResult

log = logging.getLogger(__name__)

SYSTEM_PYTHON = "/usr/bin/python3"
# Inside the sandbox: the code's read-only file and its private, writable working directory.
CODE_PATH = "/sandbox/main.py"
WORK_DIR = "/tmp"
MAX_CODE_BYTES = 1_000_000
_PROBE_TIMEOUT_S = 15.0
_READ_CHUNK = 65_536
# Host directories Python needs; each is bound read-only, or recreated as the same symlink.
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives")
# Numeric libraries start a thread per core; threads count against the process limit.
_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": WORK_DIR,
    "TMPDIR": WORK_DIR,
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
}
# Runs first inside the sandbox: sets the limits, then replaces itself with the code's Python.
_LIMITER = """\
import os, resource, sys
cpu, memory, processes, file_size = map(int, sys.argv[1:5])
for which, soft, hard in (
    (resource.RLIMIT_CPU, cpu, cpu + 1),
    (resource.RLIMIT_AS, memory, memory),
    (resource.RLIMIT_NPROC, processes, processes),
    (resource.RLIMIT_FSIZE, file_size, file_size),
    (resource.RLIMIT_CORE, 0, 0),
):
    ceiling = resource.getrlimit(which)[1]
    if ceiling != resource.RLIM_INFINITY:
        soft, hard = min(soft, ceiling), min(hard, ceiling)
    resource.setrlimit(which, (soft, hard))
os.execv(sys.executable, [sys.executable, "-I", "-u", "-B", "-X", "utf8", sys.argv[5]])
"""
_FORKING = re.compile(r"fork|spawn|Popen")
_NAMESPACE_FAILURE = re.compile(r"namespace|[ug]id map|operation not permitted", re.I)


@dataclass(frozen=True)
class Limits:
    """What one run may use; anything beyond ends it."""

    cpu_seconds: int = 10
    wall_seconds: float = 20.0
    memory_mb: int = 512  # address space of each process
    output_bytes: int = 64_000  # stdout and stderr together
    processes: int = 64  # processes and threads, the sandbox's own included
    file_mb: int = 16  # largest file; the working directory holds at most memory_mb

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"Limits.{name} must be positive, not {value!r}")


@dataclass
class RunResult:
    stdout: str
    stderr: str
    exit_code: int | None  # None when the program did not end by itself
    killed: str | None  # why the sandbox stopped it: "CPU time limit (10 s)"
    duration_s: float

    def describe(self) -> str:
        """The run as the model and the user read it: output, then how it ended."""
        parts = []
        if self.stdout:
            parts.append(f"stdout:\n{self.stdout.rstrip()}")
        if self.stderr:
            parts.append(f"stderr:\n{self.stderr.rstrip()}")
        if not parts:
            parts.append("(no output)")
        if self.exit_code is not None:
            parts.append(f"Exit status: {self.exit_code}")
        if self.killed:
            parts.append(f"Stopped by the sandbox: {self.killed}, after {self.duration_s:.1f} s")
        return "\n\n".join(parts)


def bwrap_path() -> str | None:
    """Where bubblewrap is, or None."""
    return shutil.which("bwrap") or shutil.which("bwrap", path="/usr/bin:/bin:/usr/local/bin")


def unavailable() -> str | None:
    """None when code can be sandboxed here, else why not, written for the user."""
    bwrap = bwrap_path()
    if bwrap is None or not os.access(bwrap, os.X_OK):
        return (
            "Running Python needs the bubblewrap sandbox, which is not installed: install the "
            "package 'bubblewrap' (sudo apt install bubblewrap)."
        )
    return _probe(bwrap)


@functools.lru_cache(maxsize=4)
def _probe(bwrap: str) -> str | None:
    """Start one trivial sandbox with the real options; the result is kept per bwrap path."""
    probe = Limits(cpu_seconds=5, wall_seconds=_PROBE_TIMEOUT_S)
    try:
        result = _run(bwrap, b"print('ok')", probe)
    except OSError as e:
        return f"The bubblewrap sandbox ({bwrap}) cannot be started: {e}"
    if result.exit_code == 0 and result.stdout.strip() == "ok":
        return None
    message = (result.stderr.strip().splitlines() or [result.killed or "no output"])[-1]
    log.warning("the Python sandbox does not work here: %s", message)
    if message.startswith("bwrap:") and _NAMESPACE_FAILURE.search(message):
        return (
            "Running Python needs the bubblewrap sandbox, which is installed but is not "
            f"permitted to create namespaces on this machine ({message}); allow unprivileged user namespaces "
            "(sysctl kernel.unprivileged_userns_clone=1, or "
            "kernel.apparmor_restrict_unprivileged_userns=0 on Ubuntu)."
        )
    return f"The bubblewrap sandbox cannot run Python on this machine: {message}"


def run_python(code: str, limits: Limits = Limits()) -> RunResult:
    """Run ``code`` with ``python3 -I`` in the sandbox; raises ToolError where there is none."""
    reason = unavailable()
    if reason is not None:
        raise ToolError(reason)
    bwrap = bwrap_path()
    assert bwrap is not None
    data = code.encode("utf-8", errors="replace")
    if len(data) > MAX_CODE_BYTES:
        raise ToolError(f"The code is {len(data):,} bytes; at most {MAX_CODE_BYTES:,} can be run.")
    result = _run(bwrap, data, limits)
    log.info(
        "sandboxed Python ended after %.2f s: %s",
        result.duration_s,
        result.killed or f"exit status {result.exit_code}",
    )
    return result


def python_tool(limits: Limits = Limits()) -> Tool:
    """The ``run_python`` tool: the model's code in the sandbox, its output back as untrusted text."""

    def run(arguments: dict[str, Any]) -> ToolResult:
        code = arguments.get("code")
        if not isinstance(code, str) or not code.strip():
            raise ToolError("run_python needs 'code': the Python program to run, as a string.")
        result = run_python(code, limits)
        failed = result.exit_code != 0 or result.killed is not None
        return ToolResult(result.describe(), is_error=failed, untrusted=True, source="python output")

    description = (
        "Run a Python 3 program in a sandbox and get back what it prints (stdout, stderr) and "
        "its exit status. Use it to compute, check or transform data you already have. The "
        "sandbox has no network and none of the user's files; only the standard library and "
        "packages installed system-wide; an empty private working directory, deleted "
        "afterwards. Nothing persists between runs. Limits: "
        f"{limits.cpu_seconds} s of CPU, {limits.wall_seconds:g} s in all, "
        f"{limits.memory_mb} MB of memory, {limits.processes} processes, "
        f"{limits.output_bytes:,} bytes of output. Print the results you need."
    )
    return Tool(
        name="run_python",
        description=description,
        parameters={
            "type": "object",
            "properties": {"code": {"type": "string", "description": "The complete Python program."}},
            "required": ["code"],
        },
        run=run,
        side_effects=True,
    )


def _run(bwrap: str, code: bytes, limits: Limits) -> RunResult:
    """One sandbox, start to end; the code reaches it through a memory file, never the disk."""
    fd = os.memfd_create("seesay-code")
    try:
        with open(fd, "wb", closefd=False) as f:
            f.write(code)
        os.lseek(fd, 0, os.SEEK_SET)
        started = time.monotonic()
        proc = subprocess.Popen(
            _command(bwrap, fd, limits),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(fd,),
            start_new_session=True,
            cwd="/",
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            **_host_user(),
        )
    finally:
        os.close(fd)
    deadline = started + limits.wall_seconds
    stopped: str | None = None
    try:
        stdout, stderr, stopped = _collect(proc, limits, deadline)
        if stopped is None:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                stopped = f"wall-clock limit ({limits.wall_seconds:g} s)"
    finally:
        if proc.poll() is None:
            _kill(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    duration = time.monotonic() - started
    err = stderr.decode("utf-8", errors="replace")
    exit_code, killed = _verdict(proc.returncode, err, limits)
    if stopped is not None:
        exit_code, killed = None, stopped
    return RunResult(stdout.decode("utf-8", errors="replace"), err, exit_code, killed, duration)


def _command(bwrap: str, code_fd: int, limits: Limits) -> list[str]:
    python, extra_dirs = _interpreter()
    options = _bwrap_options(bwrap)
    argv = [bwrap, "--unshare-all", "--unshare-user", "--cap-drop", "ALL"]
    if "--disable-userns" in options:
        argv.append("--disable-userns")
    argv += ["--uid", "65534", "--gid", "65534", "--hostname", "sandbox"]
    argv += ["--die-with-parent", "--new-session", "--clearenv"]
    for name, value in _ENV.items():
        argv += ["--setenv", name, value]
    for path in _SYSTEM_DIRS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    for path in _SYSTEM_FILES:
        argv += ["--ro-bind-try", path, path]
    for path in extra_dirs:
        argv += ["--ro-bind", path, path]
    argv += ["--dev", "/dev", "--proc", "/proc"]
    if "--size" in options:
        argv += ["--size", str(max(limits.memory_mb, limits.file_mb) * 1024 * 1024)]
    argv += ["--tmpfs", WORK_DIR, "--dir", os.path.dirname(CODE_PATH)]
    argv += ["--ro-bind-data", str(code_fd), CODE_PATH]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", WORK_DIR]
    argv += [python, "-I", "-c", _LIMITER]
    mb = 1024 * 1024
    argv += [str(limits.cpu_seconds), str(limits.memory_mb * mb), str(limits.processes)]
    argv += [str(limits.file_mb * mb), CODE_PATH]
    return argv


def _interpreter() -> tuple[str, tuple[str, ...]]:
    """The Python to run inside and the host directories it needs beyond the system's.

    The system Python needs only /usr; the app's own may be a virtual environment in the
    user's folders, so only its base installation is mounted, never the environment.
    """
    if os.access(SYSTEM_PYTHON, os.X_OK):
        return SYSTEM_PYTHON, ()
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    dirs = {str(Path(sys.base_prefix).resolve())}
    if not any(base.is_relative_to(d) for d in dirs):
        dirs.add(str(base.parent))
    system = ("/usr/", "/bin/", "/lib")
    return str(base), tuple(sorted(d for d in dirs if not (d + "/").startswith(system)))


@functools.lru_cache(maxsize=4)
def _bwrap_options(bwrap: str) -> frozenset[str]:
    """The options this bubblewrap knows (--size and --disable-userns are recent)."""
    try:
        help_text = subprocess.run(
            [bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(re.findall(r"^\s+(--[a-z0-9-]+)", help_text, re.M))


def _host_user() -> dict[str, Any]:
    """Popen's user switch: as root the sandbox runs as nobody, else as the user."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam("nobody")
        uid, gid = entry.pw_uid, entry.pw_gid
    except KeyError:
        uid, gid = 65534, 65534
    return {"user": uid, "group": gid, "extra_groups": []}


def _collect(
    proc: subprocess.Popen[bytes], limits: Limits, deadline: float
) -> tuple[bytes, bytes, str | None]:
    """Read stdout and stderr until both close; stop early at the deadline or the output cap."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    buffers = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    room = limits.output_bytes
    stopped: str | None = None
    with selectors.DefaultSelector() as selector:
        for fd in buffers:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map() and stopped is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stopped = f"wall-clock limit ({limits.wall_seconds:g} s)"
                break
            for key, _ in selector.select(remaining):
                chunk = os.read(key.fd, _READ_CHUNK)
                if not chunk:
                    selector.unregister(key.fd)
                    continue
                buffers[key.fd] += chunk[:room]
                if len(chunk) > room:
                    stopped = f"output limit ({limits.output_bytes:,} bytes)"
                    break
                room -= len(chunk)
    return bytes(out), bytes(err), stopped


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL bubblewrap's process group; its --die-with-parent then ends the whole sandbox."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()


def _verdict(returncode: int, stderr: str, limits: Limits) -> tuple[int | None, str | None]:
    """The exit status and, where a limit ended the program, which one."""
    number = -returncode if returncode < 0 else returncode - 128
    if number > 0 and number in signal.valid_signals():
        if number == signal.SIGXCPU:
            return None, f"CPU time limit ({limits.cpu_seconds} s)"
        return None, f"killed by {signal.Signals(number).name}"
    if returncode == 0:
        return 0, None
    lines = stderr.strip().splitlines()
    last = lines[-1] if lines else ""
    if last.startswith("MemoryError"):
        return returncode, f"memory limit ({limits.memory_mb} MB)"
    if _out_of_processes(stderr[-2000:]):
        return returncode, f"process limit ({limits.processes})"
    if last.startswith("OSError: [Errno 27]"):
        return returncode, f"file size limit ({limits.file_mb} MB)"
    return returncode, None


def _out_of_processes(tail: str) -> bool:
    """A failed fork or thread start; a fork bomb's processes write their errors over one another,
    so the error is looked for in the end of stderr, not on its last line."""
    if "can't start new thread" in tail:
        return True
    return "BlockingIOError: [Errno 11]" in tail and _FORKING.search(tail) is not None
