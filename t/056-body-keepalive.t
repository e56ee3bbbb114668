# Bodies larger than the header buffer are read in place: nginx reads the
# rest of the body right after the part that came with the header, in
# memory of the request that replaces the connection's header buffer's
# for the time of the request.  The connection's buffer must be whole
# again when the request ends, for the next request on the connection:
# here several large and small bodies follow each other on one keepalive
# connection, and a refused one is followed by another.  Under
# make test-valgrind or make test-asan a read of the request's freed
# memory when the connection goes idle shows up as an error; make test
# also runs bench/body_stress.py (32 connections at once).

use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: three 100 KB bodies on one keepalive connection, each whole, model rewritten
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 128k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- pipelined_requests eval
[map { "POST /v1/chat/completions\n" . '{"model":"m","messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800 + $_) . ']}' } 1 .. 3]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body eval
[map { '{"model":"real-model","messages":[' . CORE::join(', ', map { sprintf '{"role": "user", "content": "%05d %s"}', $_, 'lorem ipsum ' x 8 } 1 .. 800 + $_) . ']}' } 1 .. 3]
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 20



=== TEST 2: large, small and middle-sized bodies in turn on one connection
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 128k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- pipelined_requests eval
[map { "POST /v1/chat/completions\n" . '{"model":"m","messages":[{"role":"user","content":"' . ('x' x $_) . '"}]}' } 90000, 10, 3000, 60000, 1]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body eval
[map { '{"model":"real-model","messages":[{"role":"user","content":"' . ('x' x $_) . '"}]}' } 90000, 10, 3000, 60000, 1]
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 20



=== TEST 3: a refused large body (unknown model) and the next request on the connection
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 128k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- pipelined_requests eval
["POST /v1/chat/completions\n" . '{"model":"nope","messages":[{"role":"user","content":"' . ('x' x 50000) . '"}]}',
 "POST /v1/chat/completions\n" . '{"model":"m","messages":[]}']
--- more_headers
Content-Type: application/json
--- error_code eval
[404, 200]
--- response_body_like eval
['"code":"model_not_found"', '^\{"model":"real-model","messages":\[\]\}$']
--- no_error_log
[alert]
[crit]
--- timeout: 20
