"""Run the api on a real socket: uvicorn in a thread (same process) or as a subprocess."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Self

import httpx

from orgtwin.api.app import create_app
from orgtwin.api.settings import ApiSettings
from orgtwin.testing.ports import free_port
from orgtwin.testing.upstream import ThreadedServer


class ThreadServer(ThreadedServer):
    """The app under uvicorn in a background thread, on 127.0.0.1, healthy once started."""

    def __init__(self, settings: ApiSettings) -> None:
        super().__init__(create_app(settings))

    def start(self) -> Self:
        super().start()
        wait_healthy(self.url)
        return self


def wait_healthy(url: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"api at {url} never became healthy")


def env_for(settings: ApiSettings, port: int) -> dict[str, str]:
    """ORGTWIN_API_* variables reproducing ``settings`` for a subprocess."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"ORGTWIN_API_{name.upper()}"] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    env["ORGTWIN_API_PORT"] = str(port)
    env["ORGTWIN_API_HOST"] = "127.0.0.1"
    return env


class ProcessServer:
    """``orgtwin api serve`` as a child process; ``kill`` sends SIGKILL to that PID only."""

    def __init__(self, settings: ApiSettings, log: Path) -> None:
        self.settings = settings
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        cli = Path(sys.executable).parent / "orgtwin"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(cli), "api", "serve"],
                env=env_for(self.settings, self.port),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_healthy(self.url)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


class TcpRelay:
    """A TCP forwarder on 127.0.0.1 that can be cut: the apiserver 'goes away' for one client."""

    def __init__(self, target_port: int) -> None:
        import socket

        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.conns: list[Any] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: Any, dst: Any) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        import socket

        self.open = False
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
