#!/usr/bin/env python3
# bench/client.py PORT PATH BODY COUNT [EVENTS]
#
# Sends COUNT identical POSTs of the file BODY over one keepalive
# connection, as wrk does, and checks every answer: status 200 and, when
# EVENTS is given, exactly that many SSE events.  Exit status 1 on the
# first unexpected answer.
import http.client
import sys

port, path, body_file, count = sys.argv[1], sys.argv[2], sys.argv[3], \
    int(sys.argv[4])
events = int(sys.argv[5]) if len(sys.argv) > 5 else None
body = open(body_file, "rb").read()
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
headers = {"Content-Type": "application/json"}

for i in range(count):
    conn.request("POST", path, body, headers)
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        sys.exit(f"client: request {i}: status {resp.status}: {data[:200]}")
    if events is not None:
        n = data.replace(b"\r\n", b"\n").count(b"\n\n")
        if n != events:
            sys.exit(f"client: request {i}: {n} events, {events} expected")
