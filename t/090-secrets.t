# Secrets: the client's credentials never reach a provider, and the
# providers' keys never reach a client (body or header, success or error)
# nor the error log, even at debug level.
#
# The mock providers run in a server of their own (a unix socket) with their
# own error log: nginx debug-logs every request header that a server
# receives, and the providers do receive the provider keys; only the
# gateway's error log (logs/error.log) is checked here.
#
# nginx itself debug-logs the client's request headers ("http header:
# ..."), the client's Authorization included: that is nginx, not the router,
# and happens before the router runs.  So the client-key checks on the error
# log run with log_level info (TEST 13), where nothing may log them; the
# provider-key checks run at debug level, where the router must keep proxy's
# own header dump ("http proxy header: ...") out of the log.

use Test::Nginx::Socket 'no_plan';

log_level('debug');
no_shuffle();

our $MockServer = <<'_EOC_';
upstream mock_sock {
    server unix:$TEST_NGINX_SERVER_ROOT/logs/mock.sock;
}
upstream mock_closed {
    # nothing listens on 127.0.0.1:1 (tcpmux): connect() fails at once
    server 127.0.0.1:1;
}
server {
    listen unix:$TEST_NGINX_SERVER_ROOT/logs/mock.sock;
    error_log $TEST_NGINX_SERVER_ROOT/logs/mock-error.log debug;

    location /mock/echo/v1/ { llm_mock echo=headers; }
    location /mock/ok/v1/ { llm_mock "content=Hello" prompt_tokens=1 completion_tokens=1; }
    location /mock/503/v1/ { llm_mock status=503; }
    location /mock/slow/v1/ { llm_mock delay=1s; }
    location /mock/404/v1/ { llm_mock status=404; }
    # a provider that quotes the key it refuses, as some do
    location /mock/401/v1/ {
        default_type application/json;
        return 401 '{"error":{"message":"Incorrect API key provided: $http_authorization$http_x_api_key"}}';
    }
}
_EOC_

our $OkBody = '{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';

# every block: the mock server first; its config unique, since Test::Nginx
# restarts nginx only when "--- config" changes
add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->http_config) {
        $block->set_value(http_config => $MockServer . $block->http_config);
    }
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/ok/v1 key=sk-prov-a-1111111111;
llm_route m a;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
_EOC_

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

=== TEST 1: the client's credentials never reach an api=openai provider
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/echo/v1 key=sk-prov-a-1111111111;
llm_route m a;
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-9999999999
x-api-key: sk-client-x-9999999999
api-key: sk-client-azure-9999999999
OpenAI-Organization: org-client
OpenAI-Project: proj-client
--- error_code: 200
--- response_body
POST /mock/echo/v1/chat/completions
Host: provider-a.test
Authorization: Bearer sk-prov-a-1111111111
Content-Length: 27
Content-Type: application/json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: the client's credentials never reach an api=anthropic provider
--- http_config
llm_upstream c api=anthropic upstream=mock_sock host=provider-c.test tls=off path=/mock/echo/v1 key=sk-prov-c-3333333333;
llm_route m c;
--- request
POST /v1/messages
{"model":"m","max_tokens":1,"messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-9999999999
x-api-key: sk-client-x-9999999999
api-key: sk-client-azure-9999999999
--- error_code: 200
--- response_body
POST /mock/echo/v1/messages
Host: provider-c.test
x-api-key: sk-prov-c-3333333333
anthropic-version: 2023-06-01
Content-Length: 42
Content-Type: application/json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: success: no provider key in the response, nor in the debug log
"http proxy status 200" shows that debug logging is on.
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-9999999999
--- error_code: 200
--- response_body eval
$::OkBody
--- raw_response_headers_unlike: sk-prov
--- error_log
http proxy status 200
--- no_error_log
sk-prov-a-1111111111
[error]



=== TEST 4: all providers failed (502): no key in the response nor the debug log
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/503/v1 key=sk-prov-a-1111111111;
llm_upstream b upstream=mock_closed host=provider-b.test tls=off path=/mock/ok/v1 key=sk-prov-b-2222222222;
llm_upstream c api=anthropic upstream=mock_sock host=provider-c.test tls=off path=/mock/503/v1 key=sk-prov-c-3333333333;
llm_route m a b c;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:503 b:error c:503
--- response_body
{"error":{"message":"All providers failed: a:503 b:error c:503","type":"server_error","param":null,"code":null}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
sk-prov-b-2222222222
sk-prov-c-3333333333
[alert]
[crit]



=== TEST 5: all providers timed out (504): no key in the response nor the debug log
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/slow/v1 key=sk-prov-a-1111111111;
llm_upstream c api=anthropic upstream=mock_sock host=provider-c.test tls=off path=/mock/slow/v1 key=sk-prov-c-3333333333;
llm_route m a c;
--- config
location /v1/ {
    proxy_read_timeout 300ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 504
--- response_headers
X-Attempts: a:timeout c:timeout
--- response_body
{"error":{"message":"All providers timed out: a:timeout c:timeout","type":"server_error","param":null,"code":null}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
sk-prov-c-3333333333
[alert]
[crit]



=== TEST 6: a provider's 401 quoting the key: the client gets the router's 502, no key
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/401/v1 key=sk-prov-a-1111111111;
llm_upstream b upstream=mock_sock host=provider-b.test tls=off path=/mock/ok/v1 key=sk-prov-b-2222222222;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:401
--- response_body
{"error":{"message":"The provider refused the request: a:401","type":"server_error","param":null,"code":null}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
sk-prov-b-2222222222
[alert]
[crit]



=== TEST 7: an Anthropic provider's 401 quoting the key, on messages: Anthropic-format 502, no key
--- http_config
llm_upstream c api=anthropic upstream=mock_sock host=provider-c.test tls=off path=/mock/401/v1 key=sk-prov-c-3333333333;
llm_route m c;
--- request
POST /v1/messages
{"model":"m","max_tokens":1,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_body
{"type":"error","error":{"type":"api_error","message":"The provider refused the request: c:401"}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-c-3333333333
[alert]
[crit]



=== TEST 8: 401 in fail_on: the next provider answers, still no key anywhere
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/401/v1 key=sk-prov-a-1111111111 fail_on=default,401;
llm_upstream b upstream=mock_sock host=provider-b.test tls=off path=/mock/ok/v1 key=sk-prov-b-2222222222;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:401 b:200
--- response_body eval
$::OkBody
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
sk-prov-b-2222222222
[error]



=== TEST 9: unknown model (404 from the router): no key
--- request
POST /v1/chat/completions
{"model":"nope","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body
{"error":{"message":"The model `nope` does not exist or is not routed by this gateway","type":"invalid_request_error","param":"model","code":"model_not_found"}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
[alert]
[crit]



=== TEST 10: malformed JSON (400 from the router): no key
--- request
POST /v1/chat/completions
{"model":"m",
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"The request body is not valid JSON[^"]*","type":"invalid_request_error","param":null,"code":"invalid_json"\}\}$
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
[alert]
[crit]



=== TEST 11: a provider's own 404 passes through, without the key
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/404/v1 key=sk-prov-a-1111111111;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
X-Attempts: a:404
--- response_body chomp
{"error":{"message":"mock error 404","type":"server_error","param":null,"code":null}}
--- raw_response_headers_unlike: sk-prov
--- no_error_log
sk-prov-a-1111111111
[alert]
[crit]



=== TEST 12: keys in turn from a key file, failover to another api: none in the debug log
--- user_files
>>> keys-a.txt
sk-prov-a-file-one-4444444444
sk-prov-a-file-two-5555555555
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/503/v1 key_file=../html/keys-a.txt max_fails=0;
llm_upstream c api=anthropic upstream=mock_sock host=provider-c.test tls=off path=/mock/ok/v1 key=sk-prov-c-3333333333;
llm_route m a c;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request eval
[
    "POST /v1/chat/completions\n{\"model\":\"m\",\"stream\":true,\"messages\":[]}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
]
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Attempts: a#1:503 c:200", "X-Attempts: a#2:503 c:200"]
--- raw_response_headers_unlike eval
["sk-prov", "sk-prov"]
--- no_error_log
sk-prov-a-file-one-4444444444
sk-prov-a-file-two-5555555555
sk-prov-c-3333333333
[alert]
[crit]



=== TEST 13: log_level info: no client key in the error log either, whatever happens
At debug level nginx itself logs the client's headers (see the top of the
file); at info level nothing may log them.
--- log_level: info
--- http_config
llm_upstream a upstream=mock_sock host=provider-a.test tls=off path=/mock/503/v1 key=sk-prov-a-1111111111;
llm_upstream b upstream=mock_closed host=provider-b.test tls=off path=/mock/ok/v1 key=sk-prov-b-2222222222;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-9999999999
x-api-key: sk-client-x-9999999999
api-key: sk-client-azure-9999999999
--- error_code: 502
--- response_headers
X-Attempts: a:503 b:error
--- raw_response_headers_unlike: sk-
--- error_log
no provider answered "m": a:503 b:error
--- no_error_log
sk-client
sk-prov
[alert]
[crit]
