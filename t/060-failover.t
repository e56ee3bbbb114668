# Failover: every failure in fail_on moves the request to the next target
# before anything reaches the client, and $llm_attempts lists each attempt.
#
# The mock providers live in the same nginx server as the gateway.  A
# provider's mock can behave differently per endpoint (a nested exact
# location), which lets one provider fail on one endpoint and answer on
# another.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# gets the one below (a block without --- config reuses the
# running nginx and needs none).

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
_EOC_

# Test::Nginx restarts nginx only when "--- config" changes, and most blocks
# here differ in http_config alone: make every config unique.
add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

run_tests();

__DATA__

=== TEST 1: connect error: the next target answers
--- http_config
# nothing listens on 127.0.0.1:1 (tcpmux): the connection is refused at once
llm_upstream a host=127.0.0.1 port=1 tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:error b:200
X-Provider: b
X-Mock-Uri: /mock/b/v1/chat/completions
Content-Type: application/json
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
connect() failed (111: Connection refused) while connecting to upstream
provider "a" failed (error)
--- no_error_log
no provider answered
[alert]
[crit]



=== TEST 2: timeout: the next target answers
--- config
location /v1/ {
    proxy_read_timeout 500ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=1s; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:timeout b:200
X-Provider: b
X-Mock-Uri: /mock/b/v1/chat/completions
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream
provider "a" failed (timeout)
--- no_error_log
no provider answered
[alert]
[crit]



=== TEST 3: 429 fails over
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=429; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:429 b:200
X-Provider: b
X-Mock-Uri: /mock/b/v1/chat/completions
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 429)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: 500 fails over
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:500 b:200
X-Provider: b
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 500)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: 502 fails over
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=502; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:502 b:200
X-Provider: b
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 502)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: 503 fails over
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
X-Provider: b
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 503)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: 504 fails over
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=504; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:504 b:200
X-Provider: b
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 504)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: 529 (Anthropic "overloaded") fails over
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock api=anthropic status=529; }
location /mock/b/v1/ { llm_mock api=anthropic "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/messages
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:529 b:200
X-Provider: b
--- response_body chomp
{"id":"msg_mock","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello from b"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":3,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
--- error_log
provider "a" failed (status 529)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: 401 without fail_on: 502 "refused", the provider's body is not passed, no failover
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=401; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:401
X-Provider: a
Content-Type: application/json
--- response_body
{"error":{"message":"The provider refused the request: a:401","type":"server_error","param":null,"code":null}}
--- no_error_log
provider "b"
[alert]
[crit]



=== TEST 10: 402 without fail_on: 502 "refused", no failover
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=402; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:402
--- response_body
{"error":{"message":"The provider refused the request: a:402","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 11: 403 without fail_on: 502 "refused", no failover (Anthropic format on messages)
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=403; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/messages
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:403
--- response_body
{"type":"error","error":{"type":"api_error","message":"The provider refused the request: a:403"}}
--- no_error_log
[alert]
[crit]



=== TEST 12: 401 with fail_on=default,401 fails over
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=default,401;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=401; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:401 b:200
X-Provider: b
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 401)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 13: 402 with fail_on=default,402 fails over
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=default,402;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=402; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:402 b:200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 402)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 14: 403 with fail_on=403,default (order free) fails over
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=403,default;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=403; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:403 b:200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from b"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log
provider "a" failed (status 403)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: fail_on=default,401 does not cover 403: refused
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=default,401;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=403; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:403
--- response_body
{"error":{"message":"The provider refused the request: a:403","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 16: a status outside fail_on (503 with fail_on=error,timeout) is passed through as it is
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=error,timeout;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503 retry_after=7; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 503
--- response_headers
X-Attempts: a:503
X-Provider: a
X-Mock-Uri: /mock/a/v1/chat/completions
Retry-After: 7
Content-Type: application/json
--- response_body chomp
{"error":{"message":"mock error 503","type":"server_error","param":null,"code":null}}
--- no_error_log
provider "a" failed
no provider answered
[error]
[alert]
[crit]



=== TEST 17: 400 is not a failover cause: passed through
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=400; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
X-Attempts: a:400
X-Mock-Uri: /mock/a/v1/chat/completions
--- response_body chomp
{"error":{"message":"mock error 400","type":"server_error","param":null,"code":null}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 18: 500 with fail_on=error,timeout,503 is passed through, 503 would fail over
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=error,timeout,503;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 500
--- response_headers
X-Attempts: a:500
--- response_body chomp
{"error":{"message":"mock error 500","type":"server_error","param":null,"code":null}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 19: a timeout outside fail_on does not fail over: 504
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=error,503;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    proxy_read_timeout 500ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=1s; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 504
--- response_headers
X-Attempts: a:timeout
Content-Type: application/json
--- response_body
{"error":{"message":"All providers timed out: a:timeout","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 20: a connect error outside fail_on does not fail over, and is not called a refusal
--- http_config
llm_upstream a host=127.0.0.1 port=1 tls=off path=/mock/a/v1 key=sk-a fail_on=timeout,503;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:error
--- response_body
{"error":{"message":"All providers failed: a:error","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 21: every target fails: 502 listing the attempts
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=1 tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a:503 b:error
X-Provider: b
Content-Type: application/json
--- response_body
{"error":{"message":"All providers failed: a:503 b:error","type":"server_error","param":null,"code":null}}
--- error_log
provider "a" failed (status 503)
no provider answered "m": a:503 b:error
--- no_error_log
[alert]
[crit]



=== TEST 22: openai -> anthropic failover rebuilds the headers
The second provider sees x-api-key and anthropic-version, no Authorization,
and none of the client's credentials.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b:model-b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=headers; }
--- request
POST /v1/messages
{"model":"m","max_tokens":5}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client
x-api-key: sk-client-x
api-key: sk-client-azure
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
X-Upstream-Model: model-b
--- response_body
POST /mock/b/v1/messages
Host: 127.0.0.1:$TEST_NGINX_SERVER_PORT
x-api-key: sk-b
anthropic-version: 2023-06-01
Content-Length: 34
Content-Type: application/json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 23: anthropic -> openai failover rebuilds the headers
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b:model-b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=529; }
location /mock/b/v1/ { llm_mock echo=headers; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client
x-api-key: sk-client-x
anthropic-version: 2099-01-01
--- error_code: 200
--- response_headers
X-Attempts: a:529 b:200
--- response_body
POST /mock/b/v1/chat/completions
Host: 127.0.0.1:$TEST_NGINX_SERVER_PORT
Authorization: Bearer sk-b
Content-Length: 19
Content-Type: application/json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 24: openai -> anthropic failover rebuilds the body: model, and no stream_options
The openai attempt got stream_options added; the anthropic one must not.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request
POST /v1/messages
{ "max_tokens": 5, "model" : "m", "stream": true, "messages": [{"role":"user","content":"h\u00e9"}] }
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
X-Upstream-Model: claude-x
--- response_body chomp
{ "max_tokens": 5, "model" : "claude-x", "stream": true, "messages": [{"role":"user","content":"h\u00e9"}] }
--- no_error_log
[error]
[alert]
[crit]



=== TEST 25: anthropic -> openai failover rebuilds the body: model, and stream_options added
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:claude-x b:gpt-y;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=529; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:529 b:200
X-Upstream-Model: gpt-y
--- response_body chomp
{"stream_options":{"include_usage":true},"model":"gpt-y","stream":true,"messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 26: short form: backups are tried in order (a, b fail -> c)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream d host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/d/v1 key=sk-d;
llm_route m a:ma b:mb c:mc d:md;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock status=500; }
location /mock/c/v1/ { llm_mock "content=Hello from c" prompt_tokens=1 completion_tokens=3; }
location /mock/d/v1/ { llm_mock "content=Hello from d"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:500 c:200
X-Provider: c
X-Upstream-Model: mc
X-Mock-Uri: /mock/c/v1/chat/completions
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"mc","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from c"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- no_error_log
provider "c" failed
provider "d"
[error]
[alert]
[crit]



=== TEST 27: short form: a healthy primary is the only attempt
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock "content=Hello from a" prompt_tokens=1 completion_tokens=3; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
X-Provider: a
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- no_error_log
[warn]
[error]



=== TEST 28: llm_route_weighted: the other primary, then the backups in order
Both primaries have weight 1; smooth weighted round robin picks the first
listed one for the first request of a worker.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream x host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/x/v1 key=sk-x;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route_weighted m {
    a weight=1;
    x:mx weight=1;
    b:mb backup;
    c:mc backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/x/v1/ { llm_mock status=429; }
location /mock/b/v1/ { llm_mock status=502; }
location /mock/c/v1/ { llm_mock "content=Hello from c" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 x:429 b:502 c:200
X-Provider: c
X-Upstream-Model: mc
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"mc","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from c"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 29: llm_route_weighted: a single primary fails, backups in order
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route_weighted m {
    a weight=5;
    b backup;
    c backup;
}
--- config
location /v1/ {
    proxy_read_timeout 500ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock delay=1s; }
location /mock/c/v1/ { llm_mock "content=Hello from c" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:500 b:timeout c:200
X-Provider: c
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from c"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- no_error_log
[alert]
[crit]



=== TEST 30: the backup's response reaches the client unchanged (byte for byte)
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{ "model" : "m" ,"n":1.50e+2, "s":"\u00e9\n\"x\"", "t":[true,false,null],
  "messages":[{"role":"user","content":"hi"}] }
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
X-Mock-Uri: /mock/b/v1/chat/completions
Content-Type: application/octet-stream
--- response_body chomp
{ "model" : "m" ,"n":1.50e+2, "s":"\u00e9\n\"x\"", "t":[true,false,null],
  "messages":[{"role":"user","content":"hi"}] }
--- no_error_log
[error]
[alert]
[crit]



=== TEST 31: the mock's Retry-After on a 429 cools a key down (provider with several keys); the next key answers at once
--- user_files
>>> keys-a.txt
# two keys, used in turn
sk-a-one
sk-a-two
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key_file=../html/keys-a.txt max_fails=0;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
# a: 429 on chat/completions for key #1, echoes the headers on embeddings
location /mock/a/v1/ {
    if ($http_authorization = "Bearer sk-a-one") {
        rewrite ^ /mock/a429/v1/chat/completions last;
    }
    llm_mock "content=Hello from a" prompt_tokens=1 completion_tokens=3;
}
location /mock/a429/v1/ { llm_mock status=429 retry_after=30; }
location = /mock/a/v1/embeddings { llm_mock echo=headers; }
location /mock/b/v1/ { llm_mock "content=Hello from b" prompt_tokens=1 completion_tokens=3; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a#1:429 a#2:200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from a"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}
--- error_log eval
[
    'key #1 of provider "a" cools down',
    qr/key #1 of provider "a" cools down for (?:30s|30000ms)\b/,
]
--- no_error_log
key #2
[alert]
[crit]



=== TEST 32: (same nginx as TEST 31) the cooling key #1 is skipped, key #2 carries on
No "--- config": Test::Nginx keeps the nginx of the previous block running,
so the zone still holds key #1's cool-down.  Without the cool-down the keys
would alternate (#2, then #1).
--- request eval
[
    "POST /v1/embeddings\n{\"model\":\"m\",\"input\":\"x\"}",
    "POST /v1/embeddings\n{\"model\":\"m\",\"input\":\"x\"}",
]
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json"]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Attempts: a#2:200", "X-Attempts: a#2:200"]
--- response_body eval
[
    "POST /mock/a/v1/embeddings\nHost: 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}\nAuthorization: Bearer sk-a-two\nContent-Length: 25\nContent-Type: application/json\n",
    "POST /mock/a/v1/embeddings\nHost: 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}\nAuthorization: Bearer sk-a-two\nContent-Length: 25\nContent-Type: application/json\n",
]
--- no_error_log
[alert]
[crit]



=== TEST 33: a 429 with a single key cools nothing down
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=429 retry_after=30; }
location /mock/b/v1/ { llm_mock "content=Hello from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:429 b:200
--- no_error_log
cools down
[error]
[alert]
[crit]



=== TEST 34: failover with the client's body in a temp file: the next provider gets all of it
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b:model-b;
--- config
location /v1/ {
    client_body_buffer_size 1k;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request eval
"POST /v1/chat/completions\n" . '{"messages":[{"role":"user","content":"' . ('0123456789' x 1000) . '"}],"model":"m","n":1}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- response_body eval
'{"messages":[{"role":"user","content":"' . ('0123456789' x 1000) . '"}],"model":"model-b","n":1}'
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]
[alert]
[crit]



=== TEST 35: failover with a chunked client body: the next provider gets all of it
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b:model-b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request eval
"POST /v1/chat/completions\n"
. "c\r\n" . '{"model":"m"' . "\r\n"
. "10\r\n" . ',"messages":[]}' . "\n\r\n"
. "0\r\n\r\n"
--- more_headers
Content-Type: application/json
Transfer-Encoding: chunked
--- error_code: 200
--- response_headers
X-Attempts: a:500 b:200
--- response_body eval
qq{{"model":"model-b","messages":[]}\n}
--- no_error_log
[error]
[alert]
[crit]
