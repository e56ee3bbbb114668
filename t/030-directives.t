# Every directive and parameter doing its job: what each provider receives
# (headers, path, key, model), presets, key sources, upstream{} blocks,
# route matching, weighted routes, inheritance, llm_route_key, llm_router
# off, the models endpoints, llm_zone and the $llm_* variables.
#
# The mock providers live in the same server as the gateway; llm_mock
# echo=headers answers with the request line and headers it received,
# echo=body with the body it received, and every mock answer carries
# X-Mock-Uri (the path it was asked for).

use Test::Nginx::Socket 'no_plan';

# key_env= is read by nginx at configuration time from its environment
$ENV{LLM_ROUTER_TEST_KEY} = 'sk-from-the-environment';

no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_zone my_llm_zone 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m a b;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
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

=== TEST 1: api=openai: Bearer key, Host with the port, client credentials dropped
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=headers; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-secret
x-api-key: client-x-api-key
api-key: client-azure-key
OpenAI-Organization: org-client
OpenAI-Project: proj-client
anthropic-version: 2023-01-01
X-Custom: kept
--- error_code: 200
--- response_body
POST /mock/a/v1/chat/completions
Host: 127.0.0.1:$ServerPort
Authorization: Bearer sk-provider-a
Content-Length: 43
Content-Type: application/json
X-Custom: kept
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: api=anthropic: x-api-key, default anthropic-version, client credentials dropped
--- http_config
llm_upstream claude api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-ant-provider;
llm_route claude-3 claude:claude-3-5-sonnet;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock echo=headers; }
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-secret
x-api-key: client-x-api-key
api-key: client-azure-key
--- error_code: 200
--- response_body
POST /mock/c/v1/messages
Host: 127.0.0.1:$ServerPort
x-api-key: sk-ant-provider
anthropic-version: 2023-06-01
Content-Length: 58
Content-Type: application/json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: api=anthropic: the client's own anthropic-version is kept
--- http_config
llm_upstream claude api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-ant-provider;
llm_route claude-3 claude;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock echo=headers; }
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
anthropic-version: 2024-10-22
x-api-key: client-x-api-key
--- error_code: 200
--- response_body
POST /mock/c/v1/messages
Host: 127.0.0.1:$ServerPort
x-api-key: sk-ant-provider
anthropic-version: 2024-10-22
Content-Length: 49
Content-Type: application/json
--- no_error_log
[error]



=== TEST 4: upstream= block with keepalive; Host from host= without and with a port
--- http_config
upstream mock_servers {
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    keepalive 4;
}
llm_upstream u1 upstream=mock_servers host=api.example.com tls=off path=/mock/u/v1 key=sk-u1;
llm_upstream u2 upstream=mock_servers host=api.example.com port=8443 tls=off path=/mock/u/v1 key=sk-u2;
llm_route m1 u1;
llm_route m2 u2;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/u/v1/ { llm_mock echo=headers; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"m1\"}", "POST /v1/chat/completions
{\"model\":\"m2\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_body eval
["POST /mock/u/v1/chat/completions
Host: api.example.com
Authorization: Bearer sk-u1
Content-Length: 14
Content-Type: application/json
", "POST /mock/u/v1/chat/completions
Host: api.example.com:8443
Authorization: Bearer sk-u2
Content-Length: 14
Content-Type: application/json
"]
--- no_error_log
[error]



=== TEST 5: upstream= block with keepalive: the provider connection is reused
--- http_config
upstream mock_servers {
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    keepalive 4;
}
llm_upstream u upstream=mock_servers host=api.example.com tls=off path=/mock/u/v1 key=sk-u;
llm_route m u;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/u/v1/ {
    add_header X-Conn-Requests $connection_requests;
    llm_mock;
}
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Conn-Requests: 1", "X-Conn-Requests: 2", "X-Conn-Requests: 3"]
--- no_error_log
[error]



=== TEST 6: path= maps every endpoint
(messages to this api=openai provider is translated to chat/completions;
responses=on: it serves the Responses API itself)
--- http_config
llm_upstream a responses=on host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions?debug=1
{\"model\":\"m\",\"messages\":[]}", "POST /v1/completions
{\"model\":\"m\",\"prompt\":\"hi\"}", "POST /v1/embeddings
{\"model\":\"m\",\"input\":\"hi\"}", "POST /v1/responses
{\"model\":\"m\",\"input\":\"hi\"}", "POST /v1/messages
{\"model\":\"m\",\"max_tokens\":8,\"messages\":[]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers eval
["X-Mock-Uri: /mock/a/v1/chat/completions", "X-Mock-Uri: /mock/a/v1/completions",
 "X-Mock-Uri: /mock/a/v1/embeddings", "X-Mock-Uri: /mock/a/v1/responses",
 "X-Mock-Uri: /mock/a/v1/chat/completions"]
--- no_error_log
[error]



=== TEST 7: the query string really is dropped (request line as the provider saw it)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1/ key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=headers; }
--- request
POST /v1/embeddings?api-version=2024-01-01&key=leak
{"model":"m","input":"x"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body
POST /mock/a/v1/embeddings
Host: 127.0.0.1:$ServerPort
Authorization: Bearer sk-a
Content-Length: 25
Content-Type: application/json
--- no_error_log
[error]



=== TEST 8: no path= : endpoints go to the provider's root
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location = /chat/completions { llm_mock; }
location = /embeddings { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\",\"messages\":[]}", "POST /v1/embeddings
{\"model\":\"m\",\"input\":\"hi\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Mock-Uri: /chat/completions", "X-Mock-Uri: /embeddings"]
--- no_error_log
[error]



=== TEST 9: presets anthropic, qwen, zhipu, ollama: api and path from the preset
--- http_config
llm_upstream anth preset=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=sk-anth;
llm_upstream qwen preset=qwen host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=sk-qwen;
llm_upstream zhipu preset=zhipu host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=sk-zhipu;
llm_upstream ollama preset=ollama port=$TEST_NGINX_SERVER_PORT;
llm_route claude anth;
llm_route qwen-max qwen;
llm_route glm-4 zhipu;
llm_route llama3 ollama;
--- config
location /gw/ {
    include ../../../conf/llm_params;
}
location /v1/ { llm_mock echo=headers; }
location /compatible-mode/v1/ { llm_mock echo=headers; }
location /api/paas/v4/ { llm_mock echo=headers; }
--- request eval
["POST /gw/messages
{\"model\":\"claude\"}", "POST /gw/chat/completions
{\"model\":\"qwen-max\"}", "POST /gw/chat/completions
{\"model\":\"glm-4\"}", "POST /gw/chat/completions
{\"model\":\"llama3\"}"]
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-secret
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["POST /v1/messages
Host: 127.0.0.1:\$ServerPort
x-api-key: sk-anth
anthropic-version: 2023-06-01
Content-Length: 18
Content-Type: application/json
", "POST /compatible-mode/v1/chat/completions
Host: 127.0.0.1:\$ServerPort
Authorization: Bearer sk-qwen
Content-Length: 20
Content-Type: application/json
", "POST /api/paas/v4/chat/completions
Host: 127.0.0.1:\$ServerPort
Authorization: Bearer sk-zhipu
Content-Length: 17
Content-Type: application/json
", "POST /v1/chat/completions
Host: 127.0.0.1:\$ServerPort
Content-Length: 18
Content-Type: application/json
"]
--- no_error_log
[error]



=== TEST 10: every preset's path; explicit path= and api= override the preset
--- http_config
llm_upstream p1 preset=openai host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p2 preset=deepseek host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p3 preset=moonshot host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p4 preset=doubao host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p5 preset=minimax host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p6 preset=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p7 preset=mistral host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p8 preset=groq host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p9 preset=openrouter host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p10 preset=together host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p11 preset=xai host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream p12 preset=vllm port=$TEST_NGINX_SERVER_PORT;
llm_upstream p13 preset=deepseek host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/own/v2 key=k;
llm_upstream p14 preset=qwen api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=sk-q;
llm_route m1 p1;
llm_route m2 p2;
llm_route m3 p3;
llm_route m4 p4;
llm_route m5 p5;
llm_route m6 p6;
llm_route m7 p7;
llm_route m8 p8;
llm_route m9 p9;
llm_route m10 p10;
llm_route m11 p11;
llm_route m12 p12;
llm_route m13 p13;
llm_route m14 p14;
--- config
location /gw/ {
    include ../../../conf/llm_params;
    add_header X-Upstream-Host $llm_upstream_host always;
}
location /v1/ { llm_mock; }
location /v1beta/ { llm_mock; }
location /api/ { llm_mock; }
location /openai/ { llm_mock; }
location /own/ { llm_mock; }
location /apps/ { llm_mock echo=headers; }
--- request eval
[(map { "POST /gw/embeddings\n{\"model\":\"m$_\",\"input\":\"x\"}" } 1 .. 13),
 "POST /gw/messages\n{\"model\":\"m14\",\"max_tokens\":1,\"messages\":[]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[(200) x 14]
--- response_headers eval
["X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /api/v3/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /v1beta/openai/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /openai/v1/embeddings",
 "X-Mock-Uri: /api/v1/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /v1/embeddings",
 "X-Mock-Uri: /v1/embeddings\nX-Upstream-Host: 127.0.0.1:\$ServerPort",
 "X-Mock-Uri: /own/v2/embeddings",
 "X-Mock-Uri: /apps/anthropic/v1/messages"]
--- response_body_like eval
[("\"object\":\"list\"") x 13,
 "\\APOST /apps/anthropic/v1/messages\nHost: 127\\.0\\.0\\.1:\\d+\nx-api-key: sk-q\nanthropic-version: 2023-06-01\n"]
--- no_error_log
[error]



=== TEST 11: key= , key_env= and key_file= (a single key) in the Authorization header
--- http_config
llm_upstream k1 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key=sk-inline;
llm_upstream k2 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key_env=LLM_ROUTER_TEST_KEY;
llm_upstream k3 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key_file=../html/one-key.txt;
llm_route m1 k1;
llm_route m2 k2;
llm_route m3 k3;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/v1/ { llm_mock echo=headers; }
--- user_files
>>> one-key.txt
# the key of the k3 account
  sk-from-file  
--- request eval
["POST /v1/chat/completions
{\"model\":\"m1\"}", "POST /v1/chat/completions
{\"model\":\"m2\"}", "POST /v1/chat/completions
{\"model\":\"m3\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body eval
["POST /mock/v1/chat/completions
Host: 127.0.0.1:\$ServerPort
Authorization: Bearer sk-inline
Content-Length: 14
Content-Type: application/json
", "POST /mock/v1/chat/completions
Host: 127.0.0.1:\$ServerPort
Authorization: Bearer sk-from-the-environment
Content-Length: 14
Content-Type: application/json
", "POST /mock/v1/chat/completions
Host: 127.0.0.1:\$ServerPort
Authorization: Bearer sk-from-file
Content-Length: 14
Content-Type: application/json
"]
--- no_error_log
[error]



=== TEST 12: key_file= with several keys: used in turn
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key_file=../html/keys.txt;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/v1/ {
    add_header X-Key $http_authorization;
    llm_mock;
}
--- user_files
>>> keys.txt
# three keys of the same account

sk-key-1
	sk-key-2
# sk-commented-out
sk-key-3
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Key: Bearer sk-key-1", "X-Key: Bearer sk-key-2", "X-Key: Bearer sk-key-3", "X-Key: Bearer sk-key-1"]
--- no_error_log
[error]



=== TEST 13: llm_route precedence: exact, then regexes in order, then default
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key=k;
llm_route default a:by-default;
llm_route ~^gpt- a:by-regex-1;
llm_route ~gpt a:by-regex-2;
llm_route ~*^GPT a:by-caseless-regex;
llm_route gpt-4o a:by-exact;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Route $llm_route always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/v1/ { llm_mock; }
--- request eval
[map { "POST /v1/chat/completions\n{\"model\":\"$_\"}" } qw(gpt-4o gpt-3.5 my-gpt GPT-4O Gpt4 claude)]
--- more_headers
Content-Type: application/json
--- error_code eval
[(200) x 6]
--- response_headers eval
["X-Route: gpt-4o\nX-Upstream-Model: by-exact",
 "X-Route: ~^gpt-\nX-Upstream-Model: by-regex-1",
 "X-Route: ~gpt\nX-Upstream-Model: by-regex-2",
 "X-Route: ~*^GPT\nX-Upstream-Model: by-caseless-regex",
 "X-Route: ~*^GPT\nX-Upstream-Model: by-caseless-regex",
 "X-Route: default\nX-Upstream-Model: by-default"]
--- no_error_log
[error]



=== TEST 14: a target without :model forwards the client's model bytes untouched
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key=k;
llm_route gpt-4o a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Model $llm_model always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{ "model" : "gpt\u002d4o" ,"messages":[{"role":"user","content":"h\u00e9 1.50e2"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Model: gpt-4o
X-Upstream-Model: gpt-4o
--- response_body chomp
{ "model" : "gpt\u002d4o" ,"messages":[{"role":"user","content":"h\u00e9 1.50e2"}]}
--- no_error_log
[error]



=== TEST 15: a target model holding a colon (ollama:llama3:8b)
--- http_config
llm_upstream ollama preset=ollama port=$TEST_NGINX_SERVER_PORT path=/mock/o/v1;
llm_route llama ollama:llama3:8b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/o/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"llama","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Provider: ollama
X-Upstream-Model: llama3:8b
X-Mock-Uri: /mock/o/v1/chat/completions
--- response_body chomp
{"model":"llama3:8b","messages":[]}
--- no_error_log
[error]



=== TEST 16: llm_route_weighted weight=3 / weight=1: a 3:1 split (smooth weighted round robin)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route_weighted m {
    a weight=3;
    b:m-on-b weight=1;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[map { "POST /v1/chat/completions\n{\"model\":\"m\"}" } 1 .. 8]
--- more_headers
Content-Type: application/json
--- error_code eval
[(200) x 8]
--- response_headers eval
[map { $_ eq 'a' ? "X-Provider: a\nX-Upstream-Model: m\nX-Mock-Uri: /mock/a/v1/chat/completions"
                 : "X-Provider: b\nX-Upstream-Model: m-on-b\nX-Mock-Uri: /mock/b/v1/chat/completions" }
 qw(a a b a a a b a)]
--- no_error_log
[error]



=== TEST 17: weighted route: a backup is not used while a primary answers
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted m {
    a weight=1;
    b weight=1;
    c backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
location /mock/c/v1/ { llm_mock; }
--- request eval
[map { "POST /v1/chat/completions\n{\"model\":\"m\"}" } 1 .. 4]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Attempts: a:200", "X-Attempts: b:200", "X-Attempts: a:200", "X-Attempts: b:200"]
--- no_error_log
[error]



=== TEST 18: weighted route: the backup is used once the primaries fail
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k max_fails=100;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k max_fails=100;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=k;
llm_route_weighted m {
    a;
    b;
    c:backup-model backup;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock status=500; }
location /mock/c/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Attempts: a:503 b:500 c:200\nX-Provider: c\nX-Upstream-Model: backup-model\nX-Mock-Uri: /mock/c/v1/chat/completions",
 "X-Attempts: b:500 a:503 c:200\nX-Provider: c\nX-Upstream-Model: backup-model\nX-Mock-Uri: /mock/c/v1/chat/completions"]
--- response_body_like eval
["\"model\":\"backup-model\"", "\"model\":\"backup-model\""]



=== TEST 19: short form: the second target is a backup, used only on failure
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream dead host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/dead/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route ok a b;
llm_route failing dead b:rescue;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
location /mock/dead/v1/ { llm_mock status=502; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"ok\"}", "POST /v1/chat/completions
{\"model\":\"ok\"}", "POST /v1/chat/completions
{\"model\":\"failing\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Attempts: a:200\nX-Upstream-Model: ok", "X-Attempts: a:200\nX-Upstream-Model: ok",
 "X-Attempts: dead:502 b:200\nX-Upstream-Model: rescue"]



=== TEST 20: routes are inherited by server and location, and a level with routes replaces them
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route http-only a;
llm_route shared a:from-http;
--- config
llm_route shared a:from-server;
llm_route server-only a;
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /v2/ {
    llm_route shared b:from-location;
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"shared\"}", "POST /v1/chat/completions
{\"model\":\"server-only\"}", "POST /v1/chat/completions
{\"model\":\"http-only\"}", "POST /v2/chat/completions
{\"model\":\"shared\"}", "POST /v2/chat/completions
{\"model\":\"server-only\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 404, 200, 404]
--- response_headers eval
["X-Provider: a\nX-Upstream-Model: from-server", "X-Provider: a\nX-Upstream-Model: server-only", "", "X-Provider: b\nX-Upstream-Model: from-location", ""]
--- response_body_like eval
["\"model\":\"from-server\"", "\"model\":\"server-only\"", "\"code\":\"model_not_found\"", "\"model\":\"from-location\"", "\"code\":\"model_not_found\""]



=== TEST 21: http-level routes reach a server that defines none
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route gpt a:from-http;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Upstream-Model: from-http



=== TEST 22: llm_route_key with a map on a header: task-based routing
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream coder host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/coder/v1 key=k;
map $http_x_task $llm_task_route {
    code     coding;
    default  $llm_model;
}
llm_route gpt-4o a;
llm_route coding coder;
--- config
location /v1/ {
    llm_route_key $llm_task_route;
    include ../../../conf/llm_params;
    add_header X-Route $llm_route always;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/coder/v1/ { llm_mock echo=body; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"gpt-4o\"}", "POST /v1/chat/completions
{\"model\":\"gpt-4o\"}", "POST /v1/chat/completions
{\"model\":\"gpt-4o\"}"]
--- more_headers eval
["Content-Type: application/json", "Content-Type: application/json\nX-Task: code", "Content-Type: application/json\nX-Task: chat"]
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Route: gpt-4o\nX-Provider: a\nX-Upstream-Model: gpt-4o",
 "X-Route: coding\nX-Provider: coder\nX-Upstream-Model: gpt-4o\nX-Mock-Uri: /mock/coder/v1/chat/completions",
 "X-Route: gpt-4o\nX-Provider: a\nX-Upstream-Model: gpt-4o"]
--- response_body_like eval
["\"object\":\"chat.completion\"", "\\A\\{\"model\":\"gpt-4o\"\\}\\z", "\"object\":\"chat.completion\""]
--- no_error_log
[error]



=== TEST 23: llm_route_key at http level, no route for the key: 404 naming the client's model
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route_key $http_x_tenant;
llm_route acme a:acme-model;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"gpt-4o\"}", "POST /v1/chat/completions
{\"model\":\"gpt-4o\"}"]
--- more_headers eval
["Content-Type: application/json\nX-Tenant: acme", "Content-Type: application/json\nX-Tenant: other"]
--- error_code eval
[200, 404]
--- response_headers eval
["X-Upstream-Model: acme-model", "Content-Type: application/json"]
--- response_body_like eval
["\"model\":\"acme-model\"", "\\A\\{\"error\":\\{\"message\":\"The model `gpt-4o` does not exist[^\"]*\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"\\}\\}\n\\z"]



=== TEST 24: llm_router off in a nested location: the location is left alone
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route gpt a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    location /v1/raw/ {
        llm_router off;
        add_header X-Model "[$llm_model]";
        llm_mock echo=body;
    }
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /v1/raw/chat/completions
{\"model\":\"nope\", \"x\":1}", "POST /v1/chat/completions
{\"model\":\"nope\", \"x\":1}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 404]
--- response_headers eval
["X-Model: []\nX-Mock-Uri: /v1/raw/chat/completions", "Content-Type: application/json"]
--- response_body_like eval
["\\A\\{\"model\":\"nope\", \"x\":1\\}\\z", "\"code\":\"model_not_found\""]



=== TEST 25: GET models lists the exact-name routes, owned by the first target's provider
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route default a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route ~^claude b;
llm_route claude-3 b a;
llm_route_weighted mix {
    b:x weight=2;
    a:y;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
--- request
GET /v1/models
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp
{"object":"list","data":[{"id":"gpt-4o","object":"model","created":0,"owned_by":"a"},{"id":"claude-3","object":"model","created":0,"owned_by":"b"},{"id":"mix","object":"model","created":0,"owned_by":"b"}]}
--- no_error_log
[error]



=== TEST 26: GET models/{id}, and an unknown id is a 404
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route claude-3 b a;
llm_route ~^o1 a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
--- request eval
["GET /v1/models/claude-3", "GET /v1/models/gpt-4o", "GET /v1/models/nope"]
--- error_code eval
[200, 200, 404]
--- response_headers eval
["Content-Type: application/json", "Content-Type: application/json", "Content-Type: application/json"]
--- response_body eval
["{\"id\":\"claude-3\",\"object\":\"model\",\"created\":0,\"owned_by\":\"b\"}",
 "{\"id\":\"gpt-4o\",\"object\":\"model\",\"created\":0,\"owned_by\":\"a\"}",
 "{\"error\":{\"message\":\"The model `nope` does not exist\",\"type\":\"invalid_request_error\",\"param\":\"model\",\"code\":\"model_not_found\"}}\n"]
--- no_error_log
[error]



=== TEST 27: llm_zone with a name: a failure is recorded and opens the circuit
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- error_log eval
[
    'llm router: provider "a" failed (status 503)',
    qr/llm router: provider "a" circuit opened for (?:10s|10000ms) after 1 failures/,
]
--- no_error_log
[error]



=== TEST 28: llm_zone with a name: the open circuit is skipped by the next request
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Attempts: a:503 b:200", "X-Attempts: b:200"]



=== TEST 29: max_fails=2: one failure does not open the circuit, two do
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k max_fails=2 fail_timeout=30s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m a b;
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Attempts: a:503 b:200", "X-Attempts: a:503 b:200", "X-Attempts: b:200"]



=== TEST 30: max_fails=0: the circuit never opens
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k max_fails=0;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m a b;
--- request eval
[map { "POST /v1/chat/completions\n{\"model\":\"m\"}" } 1 .. 3]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Attempts: a:503 b:200", "X-Attempts: a:503 b:200", "X-Attempts: a:503 b:200"]
--- no_error_log
circuit opened



=== TEST 31: fail_timeout=1s: the open circuit lets a request through after 1s
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k fail_timeout=1s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m a b;
--- request eval
["POST /v1/chat/completions\n{\"model\":\"m\"}",
 "POST /v1/chat/completions\n{\"model\":\"m\"}",
 ["POST /v1/chat/completions\n", {value => "{\"model\":\"m\"}", delay_before => 1.3}]]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Attempts: a:503 b:200", "X-Attempts: b:200", "X-Attempts: a:503 b:200"]



=== TEST 32: fail_on=default,401 fails over on 401; without it a 401 is refused
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k fail_on=default,401;
llm_upstream plain host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route with-401 a b;
llm_route without-401 plain b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=401; }
location /mock/b/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"with-401\"}", "POST /v1/chat/completions
{\"model\":\"without-401\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 502]
--- response_headers eval
["X-Attempts: a:401 b:200", "X-Attempts: plain:401"]
--- response_body_like eval
["\"object\":\"chat.completion\"", "The provider refused the request: plain:401"]



=== TEST 33: fail_on=error,timeout: a 503 is passed to the client as it is
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k fail_on=error,timeout;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m a b;
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 503
--- response_headers
X-Attempts: a:503
X-Mock-Uri: /mock/a/v1/chat/completions



=== TEST 34: variables in add_header: $llm_model $llm_route $llm_provider $llm_upstream_model $llm_stream
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route ~^gpt-4 a:gpt-4o-2024-08-06;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Model "[$llm_model]" always;
    add_header X-Route "[$llm_route]" always;
    add_header X-Provider "[$llm_provider]" always;
    add_header X-Upstream-Model "[$llm_upstream_model]" always;
    add_header X-Stream "[$llm_stream]" always;
    add_header X-Upstream-Host "[$llm_upstream_host]" always;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"gpt-4-turbo\",\"messages\":[]}", "POST /v1/chat/completions
{\"model\":\"gpt-4-turbo\",\"stream\":true,\"messages\":[]}", "POST /v1/chat/completions
{\"model\":\"gpt-4-turbo\",\"stream\":false,\"messages\":[]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Model: [gpt-4-turbo]\nX-Route: [~^gpt-4]\nX-Provider: [a]\nX-Upstream-Model: [gpt-4o-2024-08-06]\nX-Stream: []\nX-Upstream-Host: [127.0.0.1:\$ServerPort]",
 "X-Model: [gpt-4-turbo]\nX-Route: [~^gpt-4]\nX-Provider: [a]\nX-Upstream-Model: [gpt-4o-2024-08-06]\nX-Stream: [1]\nContent-Type: text/event-stream",
 "X-Model: [gpt-4-turbo]\nX-Route: [~^gpt-4]\nX-Provider: [a]\nX-Upstream-Model: [gpt-4o-2024-08-06]\nX-Stream: []\nContent-Type: application/json"]
--- no_error_log
[error]



=== TEST 35: the variables feed map (evaluated after routing)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=k;
llm_route m1 a;
llm_route m2 b;
map $llm_provider $llm_tier {
    a        gold;
    b        silver;
    default  none;
}
map $llm_stream $llm_mode {
    1        streaming;
    default  buffered;
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Tier $llm_tier always;
    add_header X-Mode $llm_mode always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"m1\"}", "POST /v1/chat/completions
{\"model\":\"m2\",\"stream\":true}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Tier: gold\nX-Mode: buffered", "X-Tier: silver\nX-Mode: streaming"]
--- no_error_log
[error]



=== TEST 36: if ($llm_stream) inside the router location
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=k;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    if ($llm_stream) {
        add_header X-Streaming yes always;
    }
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\",\"stream\":true}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Streaming: yes", "!X-Streaming"]
--- no_error_log
[error]
