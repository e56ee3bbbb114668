# hedge=time: when the attempt in flight has no response header after
# "time", the next target is started too; the first answer wins, the
# other connection is closed.  $llm_attempts marks the loser "hedged".
#
# No expectation depends on this machine's speed: "slow" mocks wait many
# times the hedge time (seconds against 200 ms), and which provider
# answered is what is checked, never how long it took.

BEGIN { $ENV{TEST_NGINX_REUSE_PORT} = 1 }

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
log_level('info');
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

sub chat ($) {
    my $body = shift;
    return "POST /v1/chat/completions\n$body";
}

run_tests();

__DATA__

=== TEST 1: hedge= takes a time above zero
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.1 tls=off key=k;
llm_route_weighted m hedge=0 {
    a;
    b;
}
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "hedge=0" in route "m", a time above zero expected in \S+/nginx\.conf:27$}



=== TEST 2: hedge= twice
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.1 tls=off key=k;
llm_route_weighted m hedge=1s hedge=2s {
    a;
    b;
}
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate "hedge=2s" in route "m" in \S+/nginx\.conf:27$}



=== TEST 3: hedge= needs a second target
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m hedge=1s {
    a;
}
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*"hedge=" needs a second target to race with in route "m" in \S+/nginx\.conf:26$}



=== TEST 4: the first target is slow: the hedge answers, the first connection is closed
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=20s "content=from a"; }
location /mock/b/v1/ { llm_mock "content=from b" prompt_tokens=3 completion_tokens=2; }
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:hedged b:200
X-Provider: b
--- response_body_like: "content":"from b"
--- wait: 0.5
--- error_log
no answer from provider "a" after 200 ms, hedging with provider "b"
provider "b" answered first, the connection to provider "a" is closed
client prematurely closed connection, client: 127.0.0.1, server: localhost, request: "POST /mock/a/v1/chat/completions HTTP/1.1"
--- no_error_log
upstream timed out
[error]
[crit]
[alert]



=== TEST 5: the same for a stream
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=20s "content=from a"; }
location /mock/b/v1/ { llm_mock "content=from b"; }
--- request eval
main::chat('{"model":"m","stream":true}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:hedged b:200
Content-Type: text/event-stream
--- response_body_like: \A(?s:data: .*"content":"from.*)data: \[DONE\]\n\n\z
--- error_log
provider "b" answered first, the connection to provider "a" is closed
--- no_error_log
[error]
[crit]
[alert]



=== TEST 6: the first target answers after the hedge started: it wins, the hedge's connection is closed
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s "content=from a"; }
location /mock/b/v1/ { llm_mock delay=20s "content=from b"; }
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:hedged a:200
X-Provider: a
--- response_body_like: "content":"from a"
--- error_log
provider "a" answered first, the connection to provider "b" is closed
--- no_error_log
upstream timed out
[error]
[crit]
[alert]



=== TEST 7: the same for a stream
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s "content=from a"; }
location /mock/b/v1/ { llm_mock delay=20s "content=from b"; }
--- request eval
main::chat('{"model":"m","stream":true}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:hedged a:200
X-Provider: a
Content-Type: text/event-stream
--- response_body_like: (?s)"content":"from ".*"content":"a".*data: \[DONE\]
--- error_log
provider "a" answered first, the connection to provider "b" is closed
--- no_error_log
upstream timed out
[error]
[crit]
[alert]



=== TEST 8: the hedge fails at once: the first target carries on and answers
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k max_fails=100;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s "content=from a"; }
location /mock/b/v1/ { llm_mock status=503; }
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:503 a:200
X-Provider: a
--- response_body_like: "content":"from a"
--- no_error_log
[crit]
[alert]



=== TEST 9: the first target fails while the hedge is in flight: the hedge answers
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k max_fails=100;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s status=503; }
location /mock/b/v1/ { llm_mock delay=2s "content=from b"; }
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
X-Provider: b
--- response_body_like: "content":"from b"
--- error_log
provider "a" failed (status 503), hedged
--- no_error_log
[crit]
[alert]



=== TEST 10: no hedge while the first target answers in time
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m hedge=20s {
    a weight=1000;
    b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=100ms; }
location /mock/b/v1/ { llm_mock; }
--- pipelined_requests eval
[ main::chat('{"model":"m"}'), main::chat('{"model":"m","stream":true}') ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ 200, 200 ]
--- response_headers eval
[ "X-Attempts: a:200", "X-Attempts: a:200" ]
--- no_error_log
hedging
[error]



=== TEST 11: at most two at once: a third target is not started while both are in flight
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted m hedge=100ms {
    a weight=1000;
    b weight=1;
    c backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s "content=from a"; }
location /mock/b/v1/ { llm_mock delay=1s "content=from b"; }
location /mock/c/v1/ { llm_mock "content=from c"; }
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers_like
X-Attempts: (a:hedged b:200|b:hedged a:200)
X-Provider: [ab]
--- no_error_log
[error]




=== TEST 12: TLS: the hedge answers first
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream a upstream=provider_tls host=provider.test tls=on path=/a/v1 key=k;
llm_upstream b upstream=provider_tls host=provider.test tls=on path=/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    location /a/v1/ { llm_mock delay=20s "content=from a"; }
    location /b/v1/ { llm_mock delay=0s "content=from b"; }
}
--- config
location /v1/ {
    llm_router on;
    proxy_pass https://llm_router;
    proxy_http_version 1.1;
    proxy_next_upstream error timeout http_502 non_idempotent;
    proxy_set_header Host $llm_upstream_host;
    proxy_set_header Connection "";
    proxy_set_header Authorization $llm_upstream_authorization;
    proxy_set_header x-api-key $llm_upstream_x_api_key;
    proxy_set_header api-key "";
    proxy_set_header OpenAI-Organization "";
    proxy_set_header OpenAI-Project "";
    proxy_set_header anthropic-version $llm_upstream_anthropic_version;
    proxy_set_header Accept-Encoding "";
    proxy_set_header Forwarded "";
    proxy_set_header X-Forwarded-For "";
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 4;
    proxy_ssl_session_reuse on;
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_ssl_trusted_certificate ../../cert/ca.crt;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
--- request eval
main::chat('{"model":"m"}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:hedged b:200
X-Provider: b
--- response_body_like: "content":"from b"
--- no_error_log
upstream timed out
[error]
[crit]
[alert]




=== TEST 13: TLS: the first target answers first after the hedge started (its status line peeked through TLS)
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream a upstream=provider_tls host=provider.test tls=on path=/a/v1 key=k;
llm_upstream b upstream=provider_tls host=provider.test tls=on path=/b/v1 key=k;
llm_route_weighted m hedge=200ms {
    a weight=1000;
    b weight=1;
}
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    location /a/v1/ { llm_mock delay=1s "content=from a"; }
    location /b/v1/ { llm_mock delay=20s "content=from b"; }
}
--- config
location /v1/ {
    llm_router on;
    proxy_pass https://llm_router;
    proxy_http_version 1.1;
    proxy_next_upstream error timeout http_502 non_idempotent;
    proxy_set_header Host $llm_upstream_host;
    proxy_set_header Connection "";
    proxy_set_header Authorization $llm_upstream_authorization;
    proxy_set_header x-api-key $llm_upstream_x_api_key;
    proxy_set_header api-key "";
    proxy_set_header OpenAI-Organization "";
    proxy_set_header OpenAI-Project "";
    proxy_set_header anthropic-version $llm_upstream_anthropic_version;
    proxy_set_header Accept-Encoding "";
    proxy_set_header Forwarded "";
    proxy_set_header X-Forwarded-For "";
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 4;
    proxy_ssl_session_reuse on;
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_ssl_trusted_certificate ../../cert/ca.crt;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
--- request eval
main::chat('{"model":"m","stream":true}')
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:hedged a:200
X-Provider: a
--- response_body_like: (?s)"content":"from ".*"content":"a".*data: \[DONE\]
--- no_error_log
upstream timed out
[error]
[crit]
[alert]
