"""Start child processes, wait until they are ready, and stop them by process id."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import signal
import socket
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


class ChildExitedError(RuntimeError):
    """A child process ended while the stack was waiting for it."""


@dataclass
class Child:
    """One started process: its name, command, log file and asyncio handle."""

    name: str
    argv: Sequence[str]
    log_path: Path
    process: asyncio.subprocess.Process
    ready_lines: list[str] = field(default_factory=list)
    pump_task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def check_alive(self) -> None:
        """Raise ChildExitedError when the process has ended."""
        if self.process.returncode is not None:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise ChildExitedError(
                f"{self.name} (pid {self.pid}) exited with {self.process.returncode}; "
                f"end of {self.log_path}:\n{tail}"
            )


class Supervisor:
    """Owns the child processes of one stack; `stop_all()` ends them newest first.

    Children run in their own session (process group), so a Ctrl-C in the terminal reaches only
    the supervisor, which then stops each child by its pid: SIGTERM, then SIGKILL after a grace
    period.
    """

    def __init__(self, log_dir: Path) -> None:
        """Keep each child's output in `log_dir/<name>.log` and their pids in `log_dir/pids`."""
        self.log_dir = log_dir
        self.pid_file = log_dir / "pids"
        self.children: list[Child] = []

    def stop_leftovers(self) -> list[int]:
        """SIGTERM children a previous run left behind (it was killed); returns their pids.

        Only pids in the pid file whose command line is still the recorded one are signalled.
        """
        stopped = []
        lines = self.pid_file.read_text().splitlines() if self.pid_file.exists() else []
        for line in lines:
            pid_text, _, argv0 = line.partition(" ")
            try:
                cmdline = Path(f"/proc/{pid_text}/cmdline").read_bytes().split(b"\0")[0]
            except (OSError, ValueError):
                continue
            if cmdline.decode(errors="replace") == argv0:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid_text), signal.SIGTERM)
                    stopped.append(int(pid_text))
        self.pid_file.unlink(missing_ok=True)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in stopped):
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        return stopped

    def _write_pids(self) -> None:
        self.pid_file.write_text(
            "".join(f"{c.pid} {c.argv[0]}\n" for c in self.children if c.process.returncode is None)
        )

    async def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        ready_prefix: str | None = None,
        ready_count: int = 1,
        limit: float = 60.0,
    ) -> Child:
        """Start `argv`; with `ready_prefix`, wait for `ready_count` lines starting with it."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("w", encoding="utf-8")
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
        child = Child(name, argv, log_path, process)
        self.children.append(child)
        self._write_pids()
        ready = asyncio.Event()

        async def pump() -> None:
            assert process.stdout is not None
            try:
                async for raw in process.stdout:
                    line = raw.decode("utf-8", "replace")
                    log.write(line)
                    log.flush()
                    if ready_prefix and line.startswith(ready_prefix):
                        child.ready_lines.append(line.strip())
                        if len(child.ready_lines) >= ready_count:
                            ready.set()
            finally:
                log.close()
                ready.set()

        child.pump_task = asyncio.create_task(pump(), name=f"pump-{name}")
        if ready_prefix:
            try:
                await asyncio.wait_for(ready.wait(), limit)
            except TimeoutError:
                msg = f"{name} was not ready in {limit:.0f} s ({log_path})"
                raise TimeoutError(msg) from None
            if len(child.ready_lines) < ready_count:
                await process.wait()
                child.check_alive()
        return child

    async def stop(self, child: Child, grace: float = 10.0) -> None:
        """Stop one child by pid (see `stop_child`) and forget it."""
        if child in self.children:
            self.children.remove(child)
        await stop_child(child, grace)
        self._write_pids()

    async def stop_all(self, grace: float = 10.0) -> None:
        """Stop every child newest first, by pid; waits for each to end."""
        while self.children:
            child = self.children.pop()
            await stop_child(child, grace)
        self.pid_file.unlink(missing_ok=True)


async def stop_child(child: Child, grace: float = 10.0) -> None:
    """SIGTERM `child` by pid, SIGKILL it after `grace` seconds, and reap it."""
    proc = child.process
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            await proc.wait()
    if child.pump_task is not None:
        await child.pump_task


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Tell whether `host:port` can be bound (with SO_REUSEADDR, as servers do)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


async def wait_for_port(port: int, *, limit: float, child: Child | None = None) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + limit
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if child is not None:
                child.check_alive()
            if time.monotonic() > deadline:
                msg = f"nothing listens on 127.0.0.1:{port} after {limit:.0f} s"
                raise TimeoutError(msg) from None
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return
