#!/usr/bin/env python3
"""A fault-injecting LLM provider for make fault (bench/fault.sh).

Each request's path says which fault it gets: /FAULT/v1/chat/completions.
Every answer is counted per fault; GET /counts returns the counts as JSON.

Before the response header (the gateway must fail over, the client sees
nothing of it):
  reset      the connection is reset (RST) without a byte
  close      closed (FIN) without a byte
  garbage    bytes that are not HTTP, then closed
  stall      nothing for 30 s (longer than the gateway's read timeout)
  r429-KIND  429 with a Retry-After of every kind (KIND below), or none
  r503-date  503 with Retry-After as an HTTP date in the future
  gzip       a 200 JSON answer gzipped, though no gzip was asked for (the
             gateway takes it for a broken answer)
After the response header (nothing can fail over; the client gets a 200
whose body breaks, as it would from the provider itself):
  cut        JSON: a 200 header with Content-Length, part of the body, RST
  sse-cut    stream: a 200 header, two events, then RST
"""

import asyncio
import email.utils
import gzip
import json
import os
import signal
import socket
import struct
import sys
import time

COUNTS = {}

ERROR = (b'{"error":{"message":"Rate limit reached","type":"requests",'
         b'"param":null,"code":"rate_limit_exceeded"}}')

# Retry-After values: seconds, zero, negative, huge, not a number, empty,
# a date in the past, a date in the future, a date a year ahead, two
# headers; "none" sends no Retry-After at all
RETRY_AFTER = {
    'secs': ['1'],
    'zero': ['0'],
    'neg': ['-5'],
    'huge': ['99999999999999999999999'],
    'text': ['soon'],
    'empty': [''],
    'past': [email.utils.formatdate(time.time() - 3600, usegmt=True)],
    'future': None,         # computed per answer: now + 2 s
    'year': None,           # now + 1 year
    'two': ['1', '2'],
    'none': [],
}

ANSWER = json.dumps({
    "id": "chatcmpl-fault", "object": "chat.completion",
    "created": 1700000000, "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant",
                                         "content": "gzipped"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 4,
              "total_tokens": 7}}).encode()


def reset(writer):
    sock = writer.get_extra_info('socket')
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack('ii', 1, 0))
    writer.transport.abort()


async def read_request(reader):
    head = await reader.readuntil(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    method, path, _ = lines[0].split(' ', 2)
    length = 0
    for line in lines[1:]:
        if line.lower().startswith('content-length:'):
            length = int(line.split(':', 1)[1])
    body = await reader.readexactly(length) if length else b''
    return method, path, body


def header(status, reason, fields):
    out = 'HTTP/1.1 %d %s\r\n' % (status, reason)
    for name, value in fields:
        out += '%s: %s\r\n' % (name, value)
    return (out + '\r\n').encode()


async def serve(reader, writer):
    try:
        method, path, body = await read_request(reader)
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        writer.close()
        return

    if method == 'GET' and path == '/counts':
        data = json.dumps(COUNTS, sort_keys=True).encode()
        writer.write(header(200, 'OK', [('Content-Type', 'application/json'),
                                        ('Content-Length', len(data)),
                                        ('Connection', 'close')]) + data)
        await writer.drain()
        writer.close()
        return

    fault = path.split('/')[1]
    COUNTS[fault] = COUNTS.get(fault, 0) + 1

    if fault == 'reset':
        reset(writer)

    elif fault == 'close':
        writer.close()

    elif fault == 'garbage':
        writer.write(b'\x00\x01garbage, not HTTP\r\n\r\nmore')
        await writer.drain()
        writer.close()

    elif fault == 'stall':
        await asyncio.sleep(30)
        writer.close()

    elif fault.startswith('r429-') or fault == 'r503-date':
        kind = fault[5:]
        if kind == 'future' or kind == 'date':
            values = [email.utils.formatdate(time.time() + 2, usegmt=True)]
        elif kind == 'year':
            values = [email.utils.formatdate(time.time() + 365 * 86400,
                                             usegmt=True)]
        else:
            values = RETRY_AFTER.get(kind, [])
        status = 503 if fault == 'r503-date' else 429
        fields = [('Content-Type', 'application/json'),
                  ('Content-Length', len(ERROR)), ('Connection', 'close')]
        fields += [('Retry-After', v) for v in values]
        writer.write(header(status, 'Too Many Requests'
                            if status == 429 else 'Service Unavailable',
                            fields) + ERROR)
        await writer.drain()
        writer.close()

    elif fault == 'cut':
        writer.write(header(200, 'OK', [('Content-Type', 'application/json'),
                                        ('Content-Length', len(ANSWER))])
                     + ANSWER[:len(ANSWER) // 2])
        await writer.drain()
        await asyncio.sleep(0.01)
        reset(writer)

    elif fault == 'sse-cut':
        ev = (b'data: {"id":"c1","object":"chat.completion.chunk",'
              b'"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n')
        writer.write(header(200, 'OK', [('Content-Type', 'text/event-stream'),
                                        ('Transfer-Encoding', 'chunked')])
                     + b'%x\r\n%s\r\n' % (len(ev), ev) * 2)
        await writer.drain()
        await asyncio.sleep(0.01)
        reset(writer)

    elif fault == 'gzip':
        data = gzip.compress(ANSWER)
        writer.write(header(200, 'OK', [('Content-Type', 'application/json'),
                                        ('Content-Encoding', 'gzip'),
                                        ('Content-Length', len(data)),
                                        ('Connection', 'close')]) + data)
        await writer.drain()
        writer.close()

    else:
        data = b'{"error":"unknown fault"}'
        writer.write(header(404, 'Not Found',
                            [('Content-Length', len(data)),
                             ('Connection', 'close')]) + data)
        await writer.drain()
        writer.close()


async def main(port):
    server = await asyncio.start_server(serve, '127.0.0.1', port,
                                        backlog=1024, reuse_address=True)
    # stalled answers are never finished: leave at once
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, os._exit, 0)
    async with server:
        await server.serve_forever()


if __name__ == '__main__':
    asyncio.run(main(int(sys.argv[1])))
