"""Network faults for tests, made with real sockets in the test process (never by touching the
shared PostgreSQL or Redis): a server that accepts connections and never answers, and a TCP proxy
to a real PostgreSQL that can be cut (every connection dropped, new ones refused) and restored on
the same port, which is what clients see while a database restarts."""
from __future__ import annotations

import contextlib
import socket
import threading
from urllib.parse import parse_qs, urlsplit, urlunsplit


@contextlib.contextmanager
def silent_server():
    """A port where connections are accepted by the kernel and then never answered; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # the kernel completes the handshakes; nobody ever reads or writes
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def postgres_target(url: str) -> tuple[int, object]:
    """(address family, address) of the PostgreSQL a URL names: TCP host and port, or Unix socket."""
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [None])[0] or parts.hostname or "127.0.0.1"
    port = parts.port or 5432
    if host.startswith("/"):
        return socket.AF_UNIX, f"{host}/.s.PGSQL.{port}"
    return socket.AF_INET, (host, port)


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a PostgreSQL server; `cut()` simulates it going down, `restore()` back up."""

    def __init__(self, database_url: str):
        self.family, self.target = postgres_target(database_url)
        self.database_url = database_url
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def url(self) -> str:
        """The database URL, reached through this proxy (TCP on 127.0.0.1)."""
        parts = urlsplit(self.database_url)
        user = parts.username or "postgres"
        return urlunsplit(("postgresql", f"{user}@127.0.0.1:{self.port}", parts.path, "", ""))

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        if self._listener is not None:
            # shutdown first: close() alone leaves a blocked accept() holding a listening socket
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.socket(self.family, socket.SOCK_STREAM)
            try:
                upstream.connect(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
