"""A clear refusal for connections beyond ``--max-connections``, on either server.

Both servers stop accepting at the limit (granian's backpressure, waitress' ``connection_limit``):
further connections wait in the kernel's listen queue, and a client there sees nothing. The gate
is a thread that watches that queue (Linux ``TCP_INFO`` on the listening socket gives its length:
one system call, whatever the number of connections). When connections have waited there for
``patience`` seconds, the server has no free slot, so the gate accepts them itself, reads each
request's head (up to 16 KiB, at most ``linger`` seconds), answers

    503 {"error": "too many connections: the mock serves at most N at once (--max-connections)"}

with ``Connection: close`` and ``Retry-After: 1``, and closes. It never touches the server's own
connections, so a refused client costs the served ones nothing. Other systems: no gate, the
queue waits as before.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

# struct tcp_info (linux/tcp.h): for a listening socket, tcpi_unacked is its accept queue's length.
_TCPI_UNACKED = 24
_TCP_INFO_SIZE = 136
_HEAD_BYTES = 16 * 1024
_MAX_REFUSING = 256  # refusals in progress at once; beyond that a refused connection is answered and closed at once


def refusal_message(limit: int) -> str:
    return f"too many connections: the mock serves at most {limit} at once (--max-connections); try again later"


def refusal_bytes(limit: int) -> bytes:
    body = json.dumps({"error": refusal_message(limit)}).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\nRetry-After: 1\r\n\r\n"
    )
    return head.encode("ascii") + body


def queued_connections(listener: socket.socket) -> int:
    """How many connections wait in ``listener``'s accept queue (0 where unknown)."""
    try:
        info = listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
    except (OSError, AttributeError):
        return 0
    return struct.unpack_from("I", info, _TCPI_UNACKED)[0] if len(info) >= _TCPI_UNACKED + 4 else 0


def port_sockets(port: int) -> Iterator[socket.socket]:
    """Duplicates of this process's TCP sockets on ``port`` (listening or connected; Linux only).
    The caller closes each one (closing a duplicate leaves the original open)."""
    try:
        descriptors = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in descriptors:
        try:
            if not os.readlink(f"/proc/self/fd/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue
        try:
            if (
                sock.family in (socket.AF_INET, socket.AF_INET6)
                and sock.type == socket.SOCK_STREAM
                and sock.getsockname()[1] == port
            ):
                yield sock
                continue
        except OSError:
            pass
        sock.close()


def find_listener(port: int) -> socket.socket | None:
    """A duplicate of this process's listening socket on ``port`` (granian's, in its worker)."""
    found = None
    for sock in port_sockets(port):
        if found is None and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            found = sock
        else:
            sock.close()
    return found


@dataclass(slots=True)
class _Refusing:
    """One refused connection the gate still reads from: its request's head, then its close."""

    conn: socket.socket
    deadline: float
    head: bytes = b""
    answered: bool = False


class ConnectionGate(threading.Thread):
    """Answers connections that waited ``patience`` seconds in ``listener``'s queue with a 503."""

    def __init__(self, listener: socket.socket, limit: int, patience: float = 0.25, linger: float = 1.0):
        super().__init__(name="runagents-mock-gate", daemon=True)
        self.listener, self.limit, self.patience, self.linger = listener, limit, patience, linger
        listener.setblocking(False)  # it already is, for the server's own loop; accept() must not wait
        self.answer = refusal_bytes(limit)
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()

    @staticmethod
    def supported() -> bool:
        return sys.platform == "linux" and hasattr(socket, "TCP_INFO")

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        poll = self.patience / 4
        waiting_since: float | None = None
        while not self._stop.is_set():
            try:
                for key, _ in self._selector.select(timeout=poll):
                    self._step(key.data)
                now = time.monotonic()
                waiting = queued_connections(self.listener)
                if not waiting:
                    waiting_since = None
                elif waiting_since is None:
                    waiting_since = now
                elif now - waiting_since >= self.patience:
                    # Waited a whole `patience`: the server takes no more, so these are beyond its limit.
                    self._refuse(waiting, now)
                    waiting_since = None
                self._expire(now)
            except OSError:  # one odd socket must not end the gate
                time.sleep(poll)

    def _refuse(self, count: int, now: float) -> None:
        for _ in range(count):
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return  # the server took it after all
            except OSError:
                return
            conn.setblocking(False)
            if len(self._selector.get_map()) >= _MAX_REFUSING:
                self._answer(conn)
                conn.close()
                continue
            self._selector.register(conn, selectors.EVENT_READ, _Refusing(conn, deadline=now + self.linger))

    def _step(self, state: _Refusing) -> None:
        """Read the request's head (then answer) or, once answered, drain until the client closes."""
        try:
            data = state.conn.recv(_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._finish(state)
            return
        if not state.answered:
            state.head = (state.head + data)[-_HEAD_BYTES:]
            if b"\r\n\r\n" in state.head or len(state.head) >= _HEAD_BYTES:
                self._answer(state.conn)
                state.answered = True
                state.deadline = time.monotonic() + self.linger

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.send(self.answer)  # a few hundred bytes: fits a fresh connection's send buffer
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def _finish(self, state: _Refusing) -> None:
        if not state.answered:
            self._answer(state.conn)
        self._selector.unregister(state.conn)
        state.conn.close()

    def _expire(self, now: float) -> None:
        for key in list(self._selector.get_map().values()):
            if key.data.deadline <= now:
                self._finish(key.data)
