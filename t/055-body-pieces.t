# Bodies larger than the header buffer: nginx reads the rest right after
# the part that came with the header (the body is read in place, see
# t/056 for the connection's buffer afterwards).  Whatever the packets,
# the provider gets the body byte for byte, model and stream_options
# edits included (echo=body).

use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a 100 KB body with Content-Length, model rewritten, stream_options added
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 128k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"m","stream":true,"messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800) . ']}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
'{"stream_options":{"include_usage":true},"model":"real-model","stream":true,"messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800) . ']}'
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 10



=== TEST 2: the same body in separate packets, the model in the second one
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 128k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- raw_request eval
my $body = '{"messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800) . '], "model":"m"}';
["POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Content-Length: " . length($body) . "\r
\r
" . substr($body, 0, 300),
substr($body, 300, 40000),
substr($body, 40300, length($body) - 40310),
substr($body, length($body) - 10)]
--- raw_request_middle_delay: 0.05
--- error_code: 200
--- response_body eval
'{"messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800) . '], "model":"real-model"}'
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 10



=== TEST 3: a body cut in the middle of a string across packets is still whole
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- raw_request eval
my $body = '{"model":"m","messages":[{"role":"user","content":"' . ('abc\\"def ' x 600) . '"}]}';
["POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Content-Length: " . length($body) . "\r
\r
" . substr($body, 0, 57),
substr($body, 57)]
--- raw_request_middle_delay: 0.05
--- error_code: 200
--- response_body eval
'{"model":"m","messages":[{"role":"user","content":"' . ('abc\\"def ' x 600) . '"}]}'
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: a malformed byte after the first packet: the offset counts from the body's start
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- raw_request eval
my $body = '{"model":"m","messages":[{"role":"user","content":"' . ('x' x 5000) . "\x01" . '"}]}';
["POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Content-Length: " . length($body) . "\r
\r
" . substr($body, 0, 100),
substr($body, 100)]
--- raw_request_middle_delay: 0.05
--- error_code: 400
--- response_body_like: at byte 5051\)
--- no_error_log
[alert]
[crit]
