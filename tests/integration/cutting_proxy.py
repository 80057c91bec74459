"""A TCP proxy on loopback that cuts connections: a flaky network, for real. A connection is cut
``cut_after`` seconds after a request for one of ``paths`` passes through it (keep-alive connections carry
several requests, so it watches every request, not only the first)."""

import socket
import threading


class CuttingProxy:
    def __init__(self, target_port: int, cut_after: float, paths: tuple[bytes, ...] = (b"/",)):
        self.target_port, self.cut_after, self.paths = target_port, cut_after, paths
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

            def arm(data: bytes, client=client, upstream=upstream, armed=armed) -> None:
                if not armed.is_set() and any(p in data for p in self.paths):
                    armed.set()
                    timer = threading.Timer(self.cut_after, self._cut, (client, upstream))
                    timer.daemon = True
                    timer.start()

            threading.Thread(target=self._pipe, args=(client, upstream, arm), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, None), daemon=True).start()

    def _cut(self, *socks: socket.socket) -> None:
        self.cuts += 1
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, watch) -> None:
        try:
            while data := src.recv(65536):
                if watch is not None:
                    watch(data)
                dst.sendall(data)
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
