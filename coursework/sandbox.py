"""Run a submission's kernel in a bubblewrap sandbox, the notebook runner outside it.

One :class:`Environment` is made per grading run: a temporary folder with a
virtual environment whose klbook is the student wheel (sealed checks, no
chapters, no marking checks) and whose other packages are the book's, seen
read-only. Each notebook then gets its own :class:`Kernel`:

- ``bwrap`` with new PID, network, IPC, UTS and mount namespaces: the kernel
  sees only what is bound into it, read-only (the system's ``/usr``, a few
  files of ``/etc``, the Python installation, the book's virtual environment
  and the grading one), a private ``/tmp`` and a private home holding a copy
  of that one notebook (both size-limited tmpfs), and the folder of its own
  connection sockets (Jupyter's ``ipc`` transport). It sees none of the
  instructors' tree, no other submission, no network and no process of the
  grader; its environment is only what :func:`kernel_environment` gives.
- Limits on CPU seconds, address space, processes, open files and file
  size. The process limit needs a user that owns nothing else: a grader run
  as root starts the kernel as a fresh unused user id; any other user gets
  a new user namespace, in which the limit counts only the sandbox's
  processes.
- The sandbox has its own session and process group; ``--die-with-parent``
  and the PID namespace make every process it started die with it (the
  grader kills the whole group after each notebook). A watchdog process
  inside (see ``_LAUNCHER``) kills the sandbox when the grader's end of a
  pipe closes, so the kernel also dies with a grader killed by SIGKILL in
  the instant before bwrap's ``--die-with-parent`` takes hold.

The grader talks to the kernel over Unix sockets only, reads replies on the
shell channel only (never the student's output streams), and with a message
size cap. Without bubblewrap the grader refuses to run unless told
``--no-sandbox``, in which case kernels run as the grader's user with the
same clean environment and student wheel, but see everything the grader sees.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import venv
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from coursework.wheel import build_student_wheel

__all__ = [
    "Environment",
    "Kernel",
    "KernelDied",
    "KernelTimeout",
    "Limits",
    "grading_folder",
    "kernel_environment",
    "sandbox_problem",
]

#: Where things are inside the sandbox.
HOME: Final[str] = "/home/student"
SOCKETS: Final[str] = "/run/kernel"
#: Files of /etc a Python kernel reads (dynamic linker, time zone, users, fonts).
ETC_FILES: Final[tuple[str, ...]] = (
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/fonts",
    "/etc/ssl/certs",
)
#: First of the user ids given to sandboxes when the grader runs as root.
_FIRST_UID: Final[int] = 1_700_000_000
#: Largest message the grader accepts from a kernel.
_MAX_MESSAGE: Final[int] = 64 << 20
#: A Unix socket's path holds at most 107 bytes on Linux (``sun_path``). The grader's
#: end of a kernel's sockets is ``<tmp>/klbook-grade-XXXXXXXX/kernel-XXXXXXXX/sockets/k-N``:
#: 50 bytes beyond the temporary folder.
_SOCKET_PATH_MAX: Final[int] = 107
_SOCKET_PATH_BELOW_TMP: Final[int] = len("/klbook-grade-12345678/kernel-12345678/sockets/k-1")


def grading_folder() -> Path:
    """Make the grading run's private folder in the temporary folder, or in /tmp.

    Under a long ``TMPDIR`` (a CI runner's or pytest's own) the kernels' socket paths
    would not fit a Unix socket address and no kernel could start; such a run uses
    ``/tmp`` instead.

    Examples
    --------
    >>> folder = grading_folder()
    >>> len(str(folder)) + len("/kernel-12345678/sockets/k-1") <= 107
    True
    >>> folder.rmdir()
    """
    base = tempfile.gettempdir()
    if len(os.fsencode(base)) + _SOCKET_PATH_BELOW_TMP > _SOCKET_PATH_MAX:
        base = "/tmp"
    return Path(tempfile.mkdtemp(prefix="klbook-grade-", dir=base))


class KernelTimeout(Exception):
    """The kernel did not answer in time."""


class KernelDied(Exception):
    """The kernel's process ended."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of every sandboxed kernel (and of each process it starts)."""

    cpu_seconds: int = 600
    memory_bytes: int = 4 << 30
    processes: int = 64
    open_files: int = 512
    file_bytes: int = 64 << 20
    scratch_bytes: int = 256 << 20


def kernel_environment(home: str, venv_bin: str) -> dict[str, str]:
    """Return the whole environment of a grading kernel: nothing of the grader's.

    Examples
    --------
    >>> env = kernel_environment("/home/student", "/opt/venv/bin")
    >>> env["HOME"], env["PYTHONHASHSEED"], "KLBOOK" in " ".join(env)
    ('/home/student', '0', False)
    """
    return {
        "HOME": home,
        "PATH": f"{venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "JUPYTER_CONFIG_DIR": "/tmp/jupyter",
        "JUPYTER_DATA_DIR": "/tmp/jupyter/data",
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter/runtime",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def bwrap() -> str | None:
    """Return the path of ``bwrap``, or None."""
    return shutil.which("bwrap")


def _ancestors(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _system_mounts() -> list[str]:
    """Read-only ``/usr`` and the top-level links or folders a merged or split /usr needs."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    return args


def _namespaces(as_root: bool) -> list[str]:
    common = ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    if as_root:
        # No user namespace: the launcher drops to an unused user id (see Limits).
        return [
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "CAP_SETUID",
            "--cap-add",
            "CAP_SETGID",
            "--cap-add",
            "CAP_KILL",  # for the launcher's watchdog, which stays root; the kernel drops it
            *common,
        ]
    return ["--unshare-all", "--unshare-user", "--disable-userns", "--cap-drop", "ALL", *common]


def _bwrap_command(exe: str, as_root: bool) -> list[str]:
    """Return the start of every sandbox's command: namespaces, system mounts, /proc, /dev."""
    return [exe, *_namespaces(as_root), *_system_mounts(), "--proc", "/proc", "--dev", "/dev"]


def sandbox_problem() -> str | None:
    """Say why no sandbox can be made here, or return None if bubblewrap works."""
    exe = bwrap()
    if exe is None:
        return (
            "bubblewrap (bwrap) is not installed; on Debian or Ubuntu: "
            "sudo apt-get install bubblewrap"
        )
    as_root = os.geteuid() == 0
    cmd = [*_bwrap_command(exe, as_root), "--", shutil.which("true") or "/bin/true"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap does not run: {exc}"
    if proc.returncode != 0:
        return f"bubblewrap does not run here: {proc.stderr.strip() or proc.returncode}"
    return None


#: Runs first inside the sandbox: a watchdog, limits, then (as root) a fresh user id, then
#: the kernel. The watchdog is a process of its own that waits on a pipe whose only writing
#: end the grader holds: when that end closes (the grader closed the kernel, or the grader
#: died, even by SIGKILL and even before bwrap's --die-with-parent took hold) it kills
#: everything in the sandbox (its PID namespace) or, without a sandbox, the kernel's group.
#: Forked before the kernel drops to its own user id, it is out of the student's reach
#: when the grader runs as root.
_LAUNCHER = """\
import ctypes, os, resource, signal, sys
limits, uid = {limits!r}, int(sys.argv[1])
watch, sandboxed = int(sys.argv[3]), sys.argv[4] == "1"
if os.fork() == 0:
    try:
        while os.read(watch, 64):
            pass
    except OSError:
        pass
    if sandboxed:
        os.kill(-1, signal.SIGKILL)
    else:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    os._exit(0)
os.close(watch)
for name, value in limits:
    soft = hard = value
    if name == "RLIMIT_CPU":
        hard = value + 5
    resource.setrlimit(getattr(resource, name), (soft, hard))
if uid >= 0:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
ctypes.CDLL(None, use_errno=True).prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", "-f", sys.argv[2]])
"""


class Environment:
    """What a grading run makes once: a folder, the student wheel in its own venv.

    Parameters
    ----------
    root : path-like
        The book's repository (its ``klbook/`` makes the wheel).
    sandbox : bool
        Whether kernels run in bubblewrap (checked with :func:`sandbox_problem`
        by the caller).
    limits : Limits
        Resource limits of each kernel.
    """

    def __init__(self, root: str | os.PathLike[str], *, sandbox: bool, limits: Limits) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.as_root = os.geteuid() == 0
        self.folder = grading_folder()
        self.folder.chmod(0o711)
        try:
            self.wheel = build_student_wheel(root, self.folder / "dist")
            self.venv = self.folder / "venv"
            venv.EnvBuilder(with_pip=False, symlinks=True, clear=True).create(self.venv)
            self.python = self.venv / "bin" / "python"
            site = Path(sysconfig.get_path("purelib", vars={"base": str(self.venv)}, scheme="venv"))
            with zipfile.ZipFile(self.wheel) as zf:
                zf.extractall(site)
            # The book's packages (numpy, scipy, matplotlib, ipykernel), read-only. Only
            # site-packages folders get their .pth files run, so the book's editable klbook
            # (a .pth there) is not: klbook comes from the wheel above.
            book = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
            (site / "klbook-grading-book-packages.pth").write_text("".join(f"{p}\n" for p in book))
            self.font_cache = self._font_cache()
        except BaseException:
            self.close()
            raise
        self._next_uid = _FIRST_UID + secrets.randbelow(100_000_000) * 2
        self._uid_lock = threading.Lock()

    def _font_cache(self) -> Path | None:
        """Return matplotlib's font list for the kernels, so each does not list the fonts.

        The grader's own cache is reused when there is one (same matplotlib, same
        fonts, same paths); otherwise matplotlib makes it once here.
        """
        folder = self.folder / "matplotlib"
        folder.mkdir()
        homes = [os.environ.get("MPLCONFIGDIR", "")]
        homes.append(os.path.join(os.environ.get("XDG_CACHE_HOME", ""), "matplotlib"))
        homes.append(os.path.expanduser("~/.cache/matplotlib"))
        for home in homes:
            found = sorted(Path(home).glob("fontlist-v*.json")) if home.strip("/") else []
            if found and Path(home).is_absolute():
                shutil.copy(found[-1], folder / found[-1].name)
                return folder / found[-1].name
        env = kernel_environment(str(self.folder), str(self.venv / "bin"))
        env["MPLCONFIGDIR"] = str(folder)
        subprocess.run(
            [str(self.python), "-c", "import matplotlib.font_manager"],
            env=env,
            cwd=self.folder,
            capture_output=True,
            timeout=120,
            check=False,
        )
        found = sorted(folder.glob("fontlist-v*.json"))
        return found[-1] if found else None

    def next_uid(self) -> int:
        """Return a user id that owns nothing, for one sandbox (when the grader is root).

        Safe to call from several threads: no two sandboxes get the same id.
        """
        with self._uid_lock:
            self._next_uid += 1
            return self._next_uid

    def close(self) -> None:
        """Remove the run's folder."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Environment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _stderr_keeper(stream: Any, kept: list[bytes], limit: int = 65536) -> None:
    """Read a kernel's stderr to the end, keeping only its first ``limit`` bytes."""
    size = 0
    with contextlib.suppress(OSError, ValueError):
        for chunk in iter(lambda: stream.read(4096), b""):
            if size < limit:
                kept.append(chunk[: limit - size])
                size += len(chunk)


class Kernel:
    """One kernel for one notebook, sandboxed unless the environment says not to.

    Use as a context manager; leaving it kills the kernel and everything it
    started, and removes its folder.
    """

    def __init__(
        self, env: Environment, notebook: bytes, name: str, *, startup_timeout: float = 60
    ) -> None:
        self.env = env
        self.folder = Path(tempfile.mkdtemp(prefix="kernel-", dir=env.folder))
        self.process: subprocess.Popen[bytes] | None = None
        self.context = zmq.Context()
        self.context.setsockopt(zmq.MAXMSGSIZE, _MAX_MESSAGE)
        self.client: BlockingKernelClient | None = None
        self._stderr: list[bytes] = []
        self._memfds: list[int] = []
        self._watch: int | None = None  # our end of the watchdog's pipe (see _LAUNCHER)
        try:
            self._start(notebook, name, startup_timeout)
        except BaseException:
            self.close()
            raise

    # -- starting -------------------------------------------------------------------

    def _memfd(self, data: bytes) -> int:
        fd = os.memfd_create("klbook-grade")
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
        self._memfds.append(fd)
        return fd

    def _start(self, notebook: bytes, name: str, startup_timeout: float) -> None:
        env = self.env
        sockets = self.folder / "sockets"
        sockets.mkdir(mode=0o700)
        key = secrets.token_hex(32).encode()
        ports = {"shell_port": 1, "iopub_port": 2, "stdin_port": 3, "hb_port": 4}
        inside = SOCKETS if env.sandbox else str(sockets)
        connection = sockets / "kernel.json"
        write_connection_file(
            str(connection), ip=f"{inside}/k", transport="ipc", key=key, control_port=5, **ports
        )
        info = json.loads(connection.read_text())
        info["ip"] = str(sockets / "k")
        uid = env.next_uid() if (env.sandbox and env.as_root) else -1
        if uid >= 0:
            # Root keeps the folder; the kernel's group may create its sockets there until
            # it has started (then the folder is closed to it: no files can pile up).
            os.chown(sockets, 0, uid)
            sockets.chmod(0o770)
            os.chown(connection, 0, uid)
            connection.chmod(0o640)
        limits = env.limits
        rlimits = [
            ("RLIMIT_CPU", limits.cpu_seconds),
            ("RLIMIT_AS", limits.memory_bytes),
            ("RLIMIT_NOFILE", limits.open_files),
            ("RLIMIT_FSIZE", limits.file_bytes),
            ("RLIMIT_CORE", 0),
        ]
        if env.sandbox:
            rlimits.append(("RLIMIT_NPROC", limits.processes))
        launcher = _LAUNCHER.format(limits=rlimits)
        watch, self._watch = os.pipe()  # the kernel's watchdog reads; only we hold the writer
        python = str(env.python)
        venv_bin = str(env.venv / "bin")
        if env.sandbox:
            home = HOME
            kernel_env = kernel_environment(home, venv_bin)
            fds = [self._memfd(notebook)]
            cmd = _bwrap_command(bwrap() or "bwrap", env.as_root)
            size = str(limits.scratch_bytes)
            cmd += ["--size", size, "--perms", "1777", "--tmpfs", "/tmp"]
            cmd += ["--perms", "0777", "--dir", "/tmp/matplotlib"]
            if env.font_cache is not None:
                fds.append(self._memfd(env.font_cache.read_bytes()))
                cmd += [
                    "--perms",
                    "0666",
                    "--file",
                    str(fds[-1]),
                    f"/tmp/matplotlib/{env.font_cache.name}",
                ]
            made = {"/", "/tmp", "/usr"}
            # The Python installation, the book's venv (its packages) and the grading venv
            # (the student wheel), read-only at their own paths, with world-readable parents.
            for path in sorted({sys.base_prefix, sys.prefix, str(env.venv)}):
                if path == "/usr" or path.startswith("/usr/"):
                    continue
                for parent in _ancestors(path + "/x"):  # its parents and itself
                    if parent not in made:
                        made.add(parent)
                        cmd += ["--perms", "0755", "--dir", parent]
                cmd += ["--ro-bind", path, path]
            cmd += ["--perms", "0755", "--dir", "/run", "--bind", str(sockets), SOCKETS]
            if "/home" not in made:
                cmd += ["--perms", "0755", "--dir", "/home"]
            cmd += ["--size", size, "--perms", "0777", "--tmpfs", home]
            cmd += ["--perms", "0666", "--file", str(fds[0]), f"{home}/{name}"]
            cmd += ["--chdir", home, "--clearenv"]
            for var, value in kernel_env.items():
                cmd += ["--setenv", var, value]
            cmd += ["--", python, "-c", launcher, str(uid), f"{SOCKETS}/kernel.json"]
            cmd += [str(watch), "1"]
            popen_env: Mapping[str, str] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            cwd = str(self.folder)
        else:
            home_dir = self.folder / "home"
            home_dir.mkdir()
            (home_dir / name).write_bytes(notebook)
            kernel_env = kernel_environment(str(home_dir), venv_bin)
            mpl = home_dir / ".matplotlib"
            mpl.mkdir()
            if env.font_cache is not None:
                shutil.copy(env.font_cache, mpl / env.font_cache.name)
            kernel_env["MPLCONFIGDIR"] = str(mpl)
            for var in (
                "IPYTHONDIR",
                "JUPYTER_CONFIG_DIR",
                "JUPYTER_DATA_DIR",
                "JUPYTER_RUNTIME_DIR",
            ):
                kernel_env[var] = str(home_dir / ".jupyter" / var.lower())
            fds = []
            cmd = [python, "-c", launcher, "-1", str(connection), str(watch), "0"]
            popen_env = kernel_env
            cwd = str(home_dir)
        try:
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=dict(popen_env),
                cwd=cwd,
                pass_fds=[*fds, watch],
                start_new_session=True,
            )
        finally:
            os.close(watch)
        threading.Thread(
            target=_stderr_keeper, args=(self.process.stderr, self._stderr), daemon=True
        ).start()
        client = BlockingKernelClient(context=self.context)
        client.load_connection_info(info)
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        self.client = client
        deadline = time.monotonic() + startup_timeout
        while True:
            client.kernel_info()
            try:
                self._reply(
                    None, min(1.0, max(deadline - time.monotonic(), 0.01)), "kernel_info_reply"
                )
                if uid >= 0:
                    sockets.chmod(0o750)
                return
            except KernelTimeout:
                if time.monotonic() >= deadline:
                    raise KernelTimeout(
                        f"the kernel did not start within {startup_timeout:g} s"
                    ) from None

    # -- talking --------------------------------------------------------------------

    def stderr(self) -> str:
        """Return the start of the kernel's stderr (to diagnose a kernel that did not start)."""
        return b"".join(self._stderr).decode("utf-8", "replace")

    def alive(self) -> bool:
        """Whether the kernel's process (the sandbox) is still running."""
        return self.process is not None and self.process.poll() is None

    def _reply(
        self, msg_id: str | None, timeout: float, msg_type: str = "execute_reply"
    ) -> dict[str, Any]:
        assert self.client is not None
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise KernelTimeout("no reply in time")
            try:
                msg = self.client.get_shell_msg(timeout=min(left, 0.2))
            except queue.Empty:
                if not self.alive():
                    raise KernelDied("the kernel's process ended") from None
                continue
            if msg.get("msg_type") != msg_type:
                continue
            if msg_id is not None and msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            content = msg.get("content")
            return content if isinstance(content, dict) else {}

    def execute(
        self,
        code: str,
        *,
        timeout: float,
        silent: bool = False,
        user_expressions: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run ``code`` and return the execute reply's content.

        Raises
        ------
        KernelTimeout
            If no reply came within ``timeout`` seconds.
        KernelDied
            If the kernel's process ended first.
        """
        assert self.client is not None
        if not self.alive():
            raise KernelDied("the kernel's process ended")
        msg_id = self.client.execute(
            code,
            silent=silent,
            store_history=not silent,
            user_expressions=dict(user_expressions or {}),
            allow_stdin=False,
            stop_on_error=False,
        )
        return self._reply(msg_id, timeout)

    # -- stopping -------------------------------------------------------------------

    def kill(self) -> None:
        """Kill the kernel and everything it started, from any thread (see :meth:`close`)."""
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill the kernel and everything it started; remove its folder."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.stop_channels()
        process = self.process
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                process.wait(timeout=30)
        with contextlib.suppress(Exception):
            self.context.destroy(linger=0)
        for fd in self._memfds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._memfds = []
        if self._watch is not None:
            with contextlib.suppress(OSError):
                os.close(self._watch)
            self._watch = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
