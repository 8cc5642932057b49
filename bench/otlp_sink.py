#!/usr/bin/env python3
"""A stand-in OTLP/HTTP collector for benchmarks: accepts POST /v1/traces,
answers 200 with an empty ExportTraceServiceResponse, and prints how many
exports and bytes it took when stopped (SIGTERM/SIGINT).
usage: bench/otlp_sink.py PORT"""

import http.server
import signal
import sys
import threading

stats = {"exports": 0, "bytes": 0}
lock = threading.Lock()


class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        self.rfile.read(length)
        with lock:
            stats["exports"] += 1
            stats["bytes"] += length
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink)

    def stop(*_):
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    print(f"otlp sink: {stats['exports']} exports, {stats['bytes']} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
