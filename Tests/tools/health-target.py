#!/usr/bin/env python3
"""A real server for managed-mode tests: an HTTP server whose behaviour is
read from a file on every request, so a test can flip it while it runs.

  health-target.py --port 80 --mode-file /run/x/mode     # HTTP
  health-target.py --port 8080 --tcp                      # plain TCP listener
  (--bind ADDRESS listens on one address only, an IPv6 one too;
   --tls PEM serves HTTPS with the certificate and key in that file)

Modes (the file's first word; a missing file means ok):
  ok     200 with a body naming the host
  500    500 Internal Server Error
  hang   accept, read the request, never answer
"""
import argparse
import http.server
import socket
import socketserver
import ssl
import sys
import threading
import time


def mode(path):
    try:
        with open(path) as f:
            return (f.read().split() or ["ok"])[0]
    except FileNotFoundError:
        return "ok"


def family(bind):
    return socket.AF_INET6 if ":" in bind else socket.AF_INET


def serve_http(bind, port, mode_file, name, tls):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            current = mode(mode_file)
            if current == "hang":
                time.sleep(3600)
                return
            status = 500 if current == "500" else 200
            body = ("%s %d\n" % (name, status)).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 1024
        address_family = family(bind)

    server = Server((bind, port), Handler)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


def serve_tcp(bind, port):
    listener = socket.socket(family(bind))
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((bind, port))
    listener.listen(1024)
    while True:
        connection, _ = listener.accept()
        connection.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode-file", default="/nonexistent")
    parser.add_argument("--name", default=socket.gethostname())
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--bind", default="0.0.0.0")
    parser.add_argument("--tls")
    args = parser.parse_args()
    print("listening on %d" % args.port, flush=True)
    if args.tcp:
        serve_tcp(args.bind, args.port)
    else:
        serve_http(args.bind, args.port, args.mode_file, args.name, args.tls)


if __name__ == "__main__":
    sys.exit(main())
