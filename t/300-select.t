# llm_route_weighted select=latency|cost|hash: the order in which a
# route's primary targets are tried, with two workers sharing the zone.
#
# Which worker serves a request is random (TEST_NGINX_REUSE_PORT spreads
# the connections), so every expectation holds whatever the spread, and
# no expectation depends on how fast this machine is: a "slow" mock waits
# a full second before its header, against a fast one on the same host.

BEGIN { $ENV{TEST_NGINX_REUSE_PORT} = 1 }

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m select=latency {
    a;
    b;
}
_EOC_

our $Config = <<'_EOC_';
location /v1/ { include ../../../conf/llm_params; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

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

=== TEST 1: select= takes weighted, latency, cost or hash
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m select=fastest {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "select=fastest" in route "m", expected weighted, latency, cost or hash in \S+/nginx\.conf:26$}



=== TEST 2: select= twice
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m select=cost select=weighted {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate "select=weighted" in route "m" in \S+/nginx\.conf:26$}



=== TEST 3: select=hash without hash=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m select=hash {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"select=hash" needs "hash=" in route "m" in \S+/nginx\.conf:28$}



=== TEST 4: hash= without select=hash
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m select=latency hash=$http_x_user {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"hash=" needs "select=hash" in route "m" in \S+/nginx\.conf:28$}



=== TEST 5: hash= without a variable
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m select=hash hash=user {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"hash=user" in route "m" needs a variable, e.g. "hash=\$http_x_user" in \S+/nginx\.conf:26$}



=== TEST 6: an unknown parameter of llm_route_weighted
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m sticky {
    a;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "sticky" in route "m" in \S+/nginx\.conf:26$}



=== TEST 7: select=latency: every target without data is measured first
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
location = /metrics { llm_status; }
--- pipelined_requests eval
[ main::chat('{"model":"m"}'), main::chat('{"model":"m"}'), "GET /metrics" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ '"object":"chat.completion"', '"object":"chat.completion"',
  qr/llm_requests_total\{route="m",provider="a",model="m",status="200"\} 1\n(?s:.*)llm_requests_total\{route="m",provider="b",model="m",status="200"\} 1\n/ ]
--- no_error_log
[error]



=== TEST 8: select=latency: traffic moves away from a target that slows down
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
# a slows down for requests that carry X-Slow
location /mock/a/v1/ {
    if ($http_x_slow) {
        rewrite ^/mock/a/(.*)$ /slow/a/$1 last;
    }
    llm_mock;
}
location /slow/a/v1/ { llm_mock delay=1s; }
location /mock/b/v1/ { llm_mock; }
--- pipelined_requests eval
[ map { main::chat('{"model":"m"}') } 1 .. 12 ]
--- more_headers eval
[ ("Content-Type: application/json") x 4,
  ("Content-Type: application/json\nX-Slow: 1") x 8 ]
--- error_code eval
[ (200) x 12 ]
--- response_headers_like eval
[ ("X-Provider: [ab]") x 5, ("X-Provider: b") x 7 ]
--- no_error_log
[error]



=== TEST 9: select=latency: open circuits are skipped, backups come last
--- http_config
llm_upstream a host=127.0.0.1 port=1 tls=off key=k max_fails=1 fail_timeout=60s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k max_fails=100;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted m select=latency {
    a;
    b;
    c backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/b/v1/ { llm_mock status=503; }
location /mock/c/v1/ { llm_mock; }
--- pipelined_requests eval
[ map { main::chat('{"model":"m"}') } 1 .. 4 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x 4 ]
--- response_headers_like eval
[ "X-Attempts: (a:error b:503|b:503 a:error) c:200",
  ("X-Attempts: b:503 c:200") x 3 ]



=== TEST 10: select=cost: the cheapest priced target first, unpriced last
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k max_fails=100;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_upstream d host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/d/v1 key=k;
llm_price a:big input=10 output=30;
llm_price b:small input=0.1 output=0.4;
llm_route_weighted m select=cost {
    c:free weight=5;
    a:big;
    b:small;
    d:x backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock status=500; }
location /mock/c/v1/ { llm_mock status=500; }
location /mock/d/v1/ { llm_mock; }
--- pipelined_requests eval
[ map { main::chat('{"model":"m"}') } 1 .. 6 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x 6 ]
--- response_headers eval
[ ("X-Attempts: b:500 a:200") x 6 ]



=== TEST 11: select=cost: by this request's size (long prompt vs long answer)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
# a: cheap to read, dear to write; b: the other way round
llm_price a:m input=0.1 output=20;
llm_price b:m input=5 output=1;
llm_route_weighted m select=cost {
    a:m;
    b:m;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- pipelined_requests eval
[ main::chat('{"model":"m","max_tokens":4000,"messages":[{"role":"user","content":"hi"}]}'),
  main::chat('{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"' . ('x' x 4000) . '"}]}'),
  main::chat('{"model":"m","messages":[{"role":"user","content":"hi"}]}'),
  main::chat('{"model":"m","max_completion_tokens":1,"messages":[{"role":"user","content":"' . ('x' x 4000) . '"}]}') ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x 4 ]
--- response_headers eval
[ "X-Provider: b", "X-Provider: a", "X-Provider: b", "X-Provider: a" ]



=== TEST 12: select=cost: a target without :model is priced by the client's model
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_price a:m input=3 output=3;
llm_price b:* input=1 output=1;
llm_route_weighted m select=cost {
    a;
    b;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- pipelined_requests eval
[ map { main::chat('{"model":"m"}') } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (200) x 3 ]
--- response_headers eval
[ ("X-Provider: b") x 3 ]



=== TEST 13: select=hash: a key sticks to a target; adding, removing or reweighting a target moves only the keys it takes or gives up
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_upstream d host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/d/v1 key=k;
llm_route_weighted abc select=hash hash=$http_x_user { a; b; c; }
llm_route_weighted abcd select=hash hash=$http_x_user { a; b; c; d; }
llm_route_weighted ab select=hash hash=$http_x_user { a; b; }
llm_route_weighted a2bc select=hash hash=$http_x_user { a weight=2; b; c; }
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/ { llm_mock; }
--- pipelined_requests eval
[ map { my $m = $_; map { main::chat("{\"model\":\"$m\"}") } 1 .. 24 }
  qw(abc abc abcd ab a2bc) ]
--- more_headers eval
[ (map { "Content-Type: application/json\nX-User: user-$_" } 1 .. 24) x 5 ]
--- response_headers eval
# abc spreads 8/8/8; abcd: only d's new keys differ; ab: only c's keys
# move; a2bc: only keys that a now takes differ
[ map { "X-Provider: $_" } map { split / / }
  "a a b a c b a a b b c c c c c b c a b a c b b c",
  "a a b a c b a a b b c c c c c b c a b a c b b c",
  "a d d a c b a a b b c c c d c b d a b d c b d c",
  "a a b a b b a a b b b a b b a b a a b a a b b a",
  "a a b a c b a a b b c c c a a b c a b a c a a c" ]
--- no_error_log
[error]



=== TEST 14: select=hash: while a key's target is down its keys spread over the others as if it were removed; the others keep theirs
--- http_config
llm_upstream a host=127.0.0.1 port=1 tls=off key=k max_fails=1 fail_timeout=60s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted abc select=hash hash=$http_x_user { a; b; c; }
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/ { llm_mock; }
--- pipelined_requests eval
[ map { main::chat('{"model":"abc"}') } 1 .. 24 ]
--- more_headers eval
[ map { "Content-Type: application/json\nX-User: user-$_" } 1 .. 24 ]
--- response_headers eval
[ map { "X-Provider: $_" } split / /,
  "b b b c c b c c b b c c c c c b c b b b c b b c" ]



=== TEST 15: select=hash: an empty key keeps the weighted order; backups last
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted m select=hash hash=$http_x_user {
    a;
    b;
    c backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock status=500; }
location /mock/c/v1/ { llm_mock; }
--- pipelined_requests eval
[ main::chat('{"model":"m"}'), main::chat('{"model":"m"}') ]
--- more_headers eval
[ "Content-Type: application/json",
  "Content-Type: application/json\nX-User: someone" ]
--- error_code eval
[ 200, 200 ]
--- response_headers_like eval
[ "X-Attempts: (a:500 b:500|b:500 a:500) c:200",
  "X-Attempts: c:200" ]
