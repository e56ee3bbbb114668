# A client that goes away before the provider answers is not the
# provider's failure: its circuit stays closed and the next request is
# served by it.  The second block runs in the same nginx (same config).

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=60s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=600ms; }
location /mock/b/v1/ { llm_mock; }
_EOC_

# TEST 4 and 5: a stream of one word every 400 ms (the same config keeps
# the same nginx for both)
our $SlowStream = $Config;
my $slow = 'llm_mock "content=one two three four five six seven"'
           . ' interval=400ms;';
$SlowStream =~ s/llm_mock delay=600ms;/$slow/;

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

run_tests();

__DATA__

=== TEST 1: the client gives up while the provider thinks
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 0.8
--- no_error_log
circuit opened
provider "a" failed
[alert]
[crit]



=== TEST 2: a still serves: its circuit did not open
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- no_error_log
[alert]
[crit]



=== TEST 3: a failed attempt nginx does not retry (proxy_next_upstream_timeout) still gets the router's JSON, not the provider's body
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=0;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    proxy_next_upstream_timeout 10ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=401 delay=100ms; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
X-Attempts: a:401
--- response_body
{"error":{"message":"The provider refused the request: a:401","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 4: the client gives up in the middle of a stream (after the 200 header)
--- config eval
$main::SlowStream
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- timeout: 0.2
--- abort
--- ignore_response
--- wait: 1.5
--- no_error_log
circuit opened
provider "a" failed
[alert]
[crit]



=== TEST 5: (same nginx as TEST 4) a still serves: leaving is not the provider's cut
--- config eval
$main::SlowStream
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- no_error_log
answer cut
[alert]
[crit]
