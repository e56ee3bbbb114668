# Answers from nginx's own proxy_cache, keyed by $llm_cache_key: identical
# non-streaming requests are served from the cache (no provider, no cost,
# no budget, counted as provider "(cache)"); streams never are; a change of
# body, route or tenant is another key.  Two workers share the cache.

BEGIN { $ENV{TEST_NGINX_REUSE_PORT} = 1 }

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
    if (!defined $block->http_config || $block->http_config !~ /proxy_cache_path/) {
        $block->set_value(http_config =>
            "proxy_cache_path cache levels=1:2 keys_zone=llm:1m;\n"
            . ($block->http_config // ''));
    }
});

sub chat ($) {
    my $body = shift;
    return "POST /v1/chat/completions\n$body";
}

our $cache = <<'_EOC_';
    proxy_cache llm;
    proxy_cache_key $llm_cache_key;
    proxy_cache_methods POST;
    proxy_cache_valid 200 10m;
    add_header X-Cache $upstream_cache_status always;
    add_header X-Provider $llm_provider always;
    add_header X-Key $llm_cache_key always;
_EOC_

run_tests();

__DATA__

=== TEST 1: a miss, then hits from the cache: no provider, counted as "(cache)"
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
llm_price a:m input=1 output=1;
--- config eval
"location /v1/ {
    include ../../../conf/llm_params;
$::cache
}
location /mock/a/v1/ { llm_mock prompt_tokens=7 completion_tokens=5; }
location = /metrics { llm_status; }"
--- pipelined_requests eval
[ main::chat('{"model":"m","messages":[{"role":"user","content":"hi"}]}'),
  main::chat('{"model":"m","messages":[{"role":"user","content":"hi"}]}'),
  main::chat('{"model":"m","messages":[{"role":"user","content":"hi"}]}'),
  "GET /metrics" ]
--- more_headers eval
[ ("Content-Type: application/json") x 3, "" ]
--- error_code eval
[ 200, 200, 200, 200 ]
--- response_headers_like eval
[ "X-Cache: MISS\nX-Provider: a\nX-Key: [0-9a-f]{64}",
  ("X-Cache: HIT\nX-Provider: \nX-Key: [0-9a-f]{64}") x 2,
  "" ]
--- response_body_like eval
[ ('"content":"Hello from the mock provider"') x 3,
  qr/(?=(?s:.*)^llm_requests_total\{route="m",provider="a",model="m",status="200"\} 1$)(?=(?s:.*)^llm_requests_total\{route="m",provider="\(cache\)",model="m",status="200"\} 2$)(?=(?s:.*)^llm_prompt_tokens_total\{route="m",provider="a",model="m"\} 7$)(?=(?s:.*)^llm_cost_usd_total\{route="m",provider="a",model="m"\} 0\.000012000$)(?=(?s:.*)^llm_prompt_tokens_total\{route="m",provider="\(cache\)",model="m"\} 0$)(?=(?s:.*)^llm_cost_usd_total\{route="m",provider="\(cache\)",model="m"\} 0\.000000000$)/m ]
--- no_error_log
[error]
[warn]



=== TEST 2: the key: the same for the same request, another for another body, endpoint, route or tenant
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
llm_route n a:m;
--- config eval
"location /v1/ {
    llm_client_keys ../html/keys.txt;
    include ../../../conf/llm_params;
$::cache
}
location /mock/a/v1/ { llm_mock; }"
--- user_files
>>> keys.txt
sk-alpha alpha
sk-beta beta
--- pipelined_requests eval
[ main::chat('{"model":"m"}'), main::chat('{"model":"m"}'),
  main::chat('{"model":"m" }'), main::chat('{"model":"n"}'),
  "POST /v1/completions\n{\"model\":\"m\"}",
  main::chat('{"model":"m"}') ]
--- more_headers eval
[ ("Content-Type: application/json\nAuthorization: Bearer sk-alpha") x 5,
  "Content-Type: application/json\nAuthorization: Bearer sk-beta" ]
--- error_code eval
[ (200) x 6 ]
--- response_headers_like eval
[ "X-Cache: MISS", "X-Cache: HIT", ("X-Cache: MISS") x 4 ]
--- no_error_log
[error]



=== TEST 3: streams are never looked up nor stored
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
--- config eval
"location /v1/ {
    include ../../../conf/llm_params;
$::cache
}
location /mock/a/v1/ { llm_mock; }"
--- pipelined_requests eval
[ (main::chat('{"model":"m","stream":true}')) x 2 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ 200, 200 ]
--- response_headers_like eval
[ ("X-Cache: BYPASS\nX-Provider: a\nContent-Type: text/event-stream") x 2 ]
--- response_body_like eval
[ ("data: \\[DONE\\]") x 2 ]
--- no_error_log
[error]



=== TEST 4: hits charge no budget
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
--- config eval
"location /v1/ {
    llm_budget key=all requests=2/d name=two;
    include ../../../conf/llm_params;
$::cache
}
location /mock/a/v1/ { llm_mock; }"
--- pipelined_requests eval
[ (main::chat('{"model":"m","n":1}')) x 4,
  main::chat('{"model":"m","n":2}'), main::chat('{"model":"m","n":3}') ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ 200, 200, 200, 200, 200, 429 ]
--- response_headers_like eval
[ "X-Cache: MISS", ("X-Cache: HIT") x 3, "X-Cache: MISS", "" ]
--- no_error_log
[error]



=== TEST 5: a failed answer is not cached
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k max_fails=100;
llm_route m a;
--- config eval
"location /v1/ {
    include ../../../conf/llm_params;
$::cache
}
location /mock/a/v1/ { llm_mock status=503; }"
--- pipelined_requests eval
[ (main::chat('{"model":"m"}')) x 2 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ 502, 502 ]
--- response_headers_like eval
[ ("X-Cache: MISS") x 2 ]
--- response_body_like eval
[ ('"All providers failed: a:503"') x 2 ]



=== TEST 6: $llm_cache_key without proxy_cache
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Key $llm_cache_key always;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers_like
X-Key: [0-9a-f]{64}
--- no_error_log
[error]
