# Broken providers: an answer that is not HTTP, a header too big to read,
# a chunked body broken from its first bytes.  Nothing has reached the
# client yet: the request fails over, or gets the router's 502; the attempt
# counts as failed; nothing is relayed as HTTP/0.9.  Also: the client's
# Proxy-Authorization and Cookie never reach a provider; Retry-After is
# capped; an exhausted route does not log "no live upstreams".
#
# The broken provider is the one-connection TCP server of Test::Nginx
# (--- tcp_listen), which answers whatever --- tcp_reply holds.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $Providers = <<'_EOC_';
llm_upstream bad host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/v1 key=sk-bad max_fails=3;
llm_upstream good host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/good/v1 key=sk-good;
llm_route m bad good;
llm_route solo bad;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/good/v1/ { llm_mock "content=Hello from good" prompt_tokens=1 completion_tokens=3; }
location = /status { llm_status json; }
_EOC_

our $Good = '{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from good"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}';

# defaults for the blocks that leave them out; every config unique, so
# that each block starts with fresh circuits
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $Providers)
        unless defined $block->http_config;
    $block->set_value(config => $Config) unless defined $block->config;
    $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    $block->set_value(request => "POST /v1/chat/completions\n"
                      . '{"model":"m","messages":[]}')
        unless defined $block->request;
    $block->set_value(no_error_log => "[alert]\n[crit]\nno live upstreams\n")
        unless defined $block->no_error_log;
});

run_tests();

__DATA__

=== TEST 1: garbage instead of HTTP: fails over, the attempt failed
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"\x00\x01garbage, not HTTP at all\r\n\r\nmore garbage"
--- error_code: 200
--- response_headers
X-Attempts: bad:error good:200
Content-Type: application/json
--- response_body eval
$::Good
--- error_log
provider "bad" sent no valid HTTP header
provider "bad" failed (error)



=== TEST 2: a bare JSON body with no status line: fails over
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
'{"id":"chatcmpl-x","object":"chat.completion","choices":[]}'
--- error_code: 200
--- response_headers
X-Attempts: bad:error good:200
--- response_body eval
$::Good
--- error_log
provider "bad" sent no valid HTTP header



=== TEST 3: no other target: the router's 502, never the raw bytes
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
'{"id":"chatcmpl-x","object":"chat.completion","choices":[]}'
--- request
POST /v1/chat/completions
{"model":"solo","messages":[]}
--- error_code: 502
--- response_headers
X-Attempts: bad:error
Content-Type: application/json
--- response_body
{"error":{"message":"All providers failed: bad:error","type":"server_error","param":null,"code":null}}
--- error_log
provider "bad" sent no valid HTTP header
no provider answered "solo": bad:error



=== TEST 4: the failed attempt is counted as a failure
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"garbage\r\n"
--- request eval
["POST /v1/chat/completions\n{\"model\":\"solo\",\"messages\":[]}",
 "GET /status"]
--- error_code eval
[502, 200]
--- response_body_like eval
[qr/All providers failed: bad:error/,
 qr/"name":"bad".*?"attempts":1,"failures":1/s]



=== TEST 5: a response header too big for proxy_buffer_size: fails over
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: "
. ("x" x 20000) . "\r\nContent-Length: 2\r\n\r\n{}"
--- error_code: 200
--- response_headers
X-Attempts: bad:error good:200
--- response_body eval
$::Good
--- error_log
upstream sent too big header
provider "bad" failed (error)



=== TEST 6: too big a header and no other target: the router's 502
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: "
. ("x" x 20000) . "\r\nContent-Length: 2\r\n\r\n{}"
--- request
POST /v1/chat/completions
{"model":"solo","messages":[]}
--- error_code: 502
--- response_headers
X-Attempts: bad:error
Content-Type: application/json
--- response_body
{"error":{"message":"All providers failed: bad:error","type":"server_error","param":null,"code":null}}



=== TEST 7: an invalid chunk right after a 200 event-stream header: fails over
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
. "Transfer-Encoding: chunked\r\n\r\nzz-not-a-size\r\ndata: {}\r\n\r\n"
--- request
POST /v1/chat/completions
{"model":"m","messages":[],"stream":true}
--- error_code: 200
--- response_headers
X-Attempts: bad:error good:200
Content-Type: text/event-stream
--- response_body_like chomp
^data: \{"id":"chatcmpl-mock".*Hello .*data: \[DONE\]\n\n$
--- error_log
provider "bad" sent an invalid chunked body
provider "bad" failed (error)



=== TEST 8: an invalid chunk and no other target: the router's 502
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
. "Transfer-Encoding: chunked\r\n\r\n5\r\ndata:XXXXXXXX\r\n\r\n"
--- request
POST /v1/chat/completions
{"model":"solo","messages":[],"stream":true}
--- error_code: 502
--- response_headers
X-Attempts: bad:error
Content-Type: application/json
--- response_body
{"error":{"message":"All providers failed: bad:error","type":"server_error","param":null,"code":null}}
--- error_log
provider "bad" sent an invalid chunked body



=== TEST 9: valid chunks over several reads are an answer
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
["HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
 . "Transfer-Encoding: chunked\r\n\r\n", "f\r\ndata: {\"a\":1}\n\n\r\n",
 "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n"]
--- request
POST /v1/chat/completions
{"model":"solo","messages":[],"stream":true,"stream_options":{"include_usage":true}}
--- error_code: 200
--- response_headers
X-Attempts: bad:200
--- response_body eval
"data: {\"a\":1}\n\ndata: [DONE]\n\n"



=== TEST 10: the client's Proxy-Authorization and Cookie stay with the gateway
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/echo/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/echo/v1/ { llm_mock echo=headers; }
--- more_headers
Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==
Cookie: session=client-secret-cookie
X-Other: kept
--- error_code: 200
--- response_body_like
(?s)\A(?!.*(?i:proxy-authorization|cookie|client-secret|c2VjcmV0)).*X-Other: kept



=== TEST 11: a Retry-After too large to read is the cap (600 s)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=1s;
llm_upstream good host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/good/v1 key=sk-good;
llm_route m a good;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ {
    default_type application/json;
    add_header Retry-After 99999999999999999999 always;
    return 429 '{"error":{"message":"slow down","type":"rate_limit_error"}}';
}
location /mock/good/v1/ { llm_mock; }
--- error_code: 200
--- response_headers
X-Attempts: a:429 good:200
--- error_log
provider "a" circuit opened for 600000ms after 1 failures



=== TEST 12: a day's Retry-After is the cap too
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=1s;
llm_upstream good host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/good/v1 key=sk-good;
llm_route m a good;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=429 retry_after=86400; }
location /mock/good/v1/ { llm_mock; }
--- error_code: 200
--- response_headers
X-Attempts: a:429 good:200
--- error_log
provider "a" circuit opened for 600000ms after 1 failures



=== TEST 13: an exhausted route logs what failed, not "no live upstreams"
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock status=500; }
--- error_code: 502
--- response_headers
X-Attempts: a:503 b:500
--- error_log
no provider answered "m": a:503 b:500



=== TEST 14: an answer gzipped though no encoding was asked for: fails over
Its usage cannot be read, and the client did not ask for gzip either.
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
. "Content-Length: 10\r\n\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
--- error_code: 200
--- response_headers
X-Attempts: bad:error good:200
Content-Encoding:
--- response_body eval
$::Good
--- error_log
provider "bad" sent an answer in "Content-Encoding: gzip", which was not asked for
provider "bad" failed (error)



=== TEST 15: a gzipped answer and no other target: the router's 502
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Encoding: br\r\n"
. "Content-Length: 4\r\n\r\nxxxx"
--- request eval
"POST /v1/chat/completions\n" . '{"model":"solo","stream":true,"messages":[]}'
--- error_code: 502
--- response_body_like: All providers failed: bad:error
--- error_log
sent an answer in "Content-Encoding: br", which was not asked for



=== TEST 16: "Content-Encoding: identity" is no encoding: the answer
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: identity\r\n"
. "Content-Length: 2\r\nConnection: close\r\n\r\n{}"
--- error_code: 200
--- response_headers
X-Attempts: bad:200
--- response_body: {}
--- no_error_log
which was not asked for
[alert]
[crit]
