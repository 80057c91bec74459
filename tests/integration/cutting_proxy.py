"""A TCP proxy on loopback that cuts connections: a flaky network, for real. A connection is cut once a
request for one of ``paths`` has passed through it (keep-alive connections carry several requests, so it
watches every request, not only the first), either ``cut_after`` seconds later or, with ``cut_after_events``,
as soon as that many Server-Sent Events have gone back to the client: the rest of the response is dropped,
so the cuts do not depend on how fast the server is."""

import socket
import threading


class CuttingProxy:
    def __init__(self, target_port: int, cut_after: float | None = None, paths: tuple[bytes, ...] = (b"/",),
                 cut_after_events: int | None = None):
        if (cut_after is None) == (cut_after_events is None):
            raise ValueError("give either cut_after (seconds) or cut_after_events")
        self.target_port, self.cut_after, self.paths = target_port, cut_after, paths
        self.cut_after_events = cut_after_events
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.cuts = 0
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            armed = threading.Event()
            seen = [0]  # event ends relayed since the connection was armed

            def arm(data: bytes, client=client, upstream=upstream, armed=armed) -> tuple[bytes, bool]:
                if not armed.is_set() and any(p in data for p in self.paths):
                    armed.set()
                    if self.cut_after is not None:
                        timer = threading.Timer(self.cut_after, self._cut, (client, upstream))
                        timer.daemon = True
                        timer.start()
                return data, False

            def count(data: bytes, armed=armed, seen=seen) -> tuple[bytes, bool]:
                """What of ``data`` goes on to the client, and whether the connection is cut after it."""
                if self.cut_after_events is None or not armed.is_set():
                    return data, False
                end = 0
                while (end := data.find(b"\n\n", end)) != -1:
                    end += 2
                    seen[0] += 1
                    if seen[0] >= self.cut_after_events:
                        return data[:end], True
                return data, False

            threading.Thread(target=self._pipe, args=(client, upstream, arm), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, count), daemon=True).start()

    def _cut(self, *socks: socket.socket) -> None:
        self.cuts += 1
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _pipe(self, src: socket.socket, dst: socket.socket, watch) -> None:
        try:
            while data := src.recv(65536):
                data, cut = watch(data)
                dst.sendall(data)
                if cut:
                    self._cut(src, dst)
                    return
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self._stop.set()
        self.server.close()
