#!/usr/bin/env python3
"""Concurrent large request bodies through the gateway (make test-body).

make bench once crashed workers (SIGSEGV) with 32 connections sending
100 KB bodies over keepalive, which the suite, one request at a time,
never showed.  This starts the mock and a gateway (a master and two
workers, as in production), opens CONNS keepalive connections that each
send REQUESTS chat requests of mixed sizes (below, at and well above the
header buffer, some split in several writes, some chunked), and checks
that every answer is a 200 with the usage of its request, that no worker
died and that nginx logged no alert.

    body_stress.py PORT [CONNS [REQUESTS]]

PORT and the two ports after it are used (mock, gateway).
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = os.environ.get("BODY_STRESS_BUILD", os.path.join(top, "build"))
nginx = os.environ.get("TEST_NGINX_BINARY", "nginx")

port = int(sys.argv[1])
conns = int(sys.argv[2]) if len(sys.argv) > 2 else 32
requests = int(sys.argv[3]) if len(sys.argv) > 3 else 20
mock_port, gw_port = port, port + 1

run = tempfile.mkdtemp(prefix="llm-body-stress-")

MOCK = """
load_module %(build)s/ngx_http_llm_mock_module.so;
worker_processes 1;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_buffer_size 2m;
    client_max_body_size 4m;
    server {
        listen 127.0.0.1:%(mock_port)d;
        location / { llm_mock; }
    }
}
"""

GW = """
load_module %(build)s/ngx_http_llm_router_module.so;
worker_processes 2;
error_log logs/error.log warn;
pid logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_buffer_size 2m;
    client_max_body_size 4m;
    keepalive_requests 100000;

    upstream mock {
        server 127.0.0.1:%(mock_port)d;
        keepalive 16;
    }

    llm_upstream mock upstream=mock host=127.0.0.1 tls=off path=/v1
                      key=sk-stress;
    llm_route stress mock:stress-model;
    llm_price mock:stress-model input=2.5 output=10;
    llm_budget key=$remote_addr tokens=1000000000000/d name=stress;

    server {
        listen 127.0.0.1:%(gw_port)d;
        location /v1/ {
            include %(top)s/conf/llm_params;
        }
    }
}
"""


def start(name, conf):
    d = os.path.join(run, name)
    os.makedirs(os.path.join(d, "logs"))
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf % dict(build=build, top=top, mock_port=mock_port,
                            gw_port=gw_port))
    subprocess.check_call([nginx, "-p", d, "-c", "nginx.conf"])
    return d


def stop(d):
    try:
        with open(os.path.join(d, "logs", "nginx.pid")) as f:
            os.kill(int(f.read()), signal.SIGQUIT)
    except (OSError, ValueError):
        pass


def wait_port(p):
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", p), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("body_stress: nothing listens on port %d" % p)


def body(size):
    msgs, b = [], ""
    while len(b) < size:
        msgs.append({"role": "user", "content": "lorem ipsum dolor " * 20})
        b = json.dumps({"model": "stress", "messages": msgs})
    return b.encode()


# below the header buffer, just above it, and far above
SIZES = [300, 1500, 5000, 100 * 1024, 100 * 1024, 1024 * 1024]
BODIES = {s: body(s) for s in SIZES}


def read_answer(sock, buf):
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise IOError("connection closed before the header")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if not m:
        raise IOError("no Content-Length: " + head.decode("latin1"))
    n = int(m.group(1))
    while len(rest) < n:
        d = sock.recv(65536)
        if not d:
            raise IOError("connection closed in the body")
        rest += d
    return head, rest[:n], rest[n:]


errors = []


def client(i):
    rnd = random.Random(i)
    try:
        sock = socket.create_connection(("127.0.0.1", gw_port), 10)
        sock.settimeout(30)
        buf = b""
        for k in range(requests):
            b = BODIES[rnd.choice(SIZES)]
            chunked = rnd.random() < 0.15
            head = ("POST /v1/chat/completions HTTP/1.1\r\n"
                    "Host: stress\r\nContent-Type: application/json\r\n")
            if chunked:
                head += "Transfer-Encoding: chunked\r\n\r\n"
                payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(b), b)
            else:
                head += "Content-Length: %d\r\n\r\n" % len(b)
                payload = b
            data = head.encode() + payload
            if rnd.random() < 0.5:
                sock.sendall(data)
            else:
                # the header and the body's start together, then pieces
                cut = len(head) + rnd.randint(0, min(len(payload), 3000))
                sock.sendall(data[:cut])
                pos = cut
                while pos < len(data):
                    step = rnd.randint(1, 64 * 1024)
                    sock.sendall(data[pos:pos + step])
                    pos += step
            h, answer, buf = read_answer(sock, buf)
            status = h.split(b" ", 2)[1]
            if status != b"200":
                raise IOError("status %s: %r" % (status, answer[:200]))
            if b'"usage"' not in answer:
                raise IOError("no usage in %r" % answer[:200])
        sock.close()
    except Exception as e:
        errors.append("connection %d: %s" % (i, e))


mock = gw = None
try:
    mock = start("mock", MOCK)
    gw = start("gw", GW)
    wait_port(mock_port)
    wait_port(gw_port)
    time.sleep(0.3)

    threads = [threading.Thread(target=client, args=(i,))
               for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    log = open(os.path.join(gw, "logs", "error.log")).read()
    bad = [l for l in log.splitlines()
           if re.search(r"\[(alert|crit|emerg)\]|signal \d+|core dumped", l)]
    if bad or errors:
        for e in errors[:10]:
            print("body_stress:", e)
        for l in bad[:10]:
            print("body_stress: error.log:", l)
        sys.exit(1)
    print("body_stress: %d connections x %d requests of %s bytes: all "
          "answered, no worker died" % (conns, requests,
                                        "/".join(str(s) for s in SIZES)))
finally:
    for d in (gw, mock):
        if d:
            stop(d)
    time.sleep(0.3)
    if not os.environ.get("BODY_STRESS_KEEP"):
        shutil.rmtree(run, ignore_errors=True)
