# Presets of the Anthropic-compatible endpoints (for Claude Code) and of the
# providers added with API translation: preset=X api=anthropic takes the
# provider's Anthropic endpoint, preset=X alone its OpenAI one.  Hosts are
# overridden to reach the mock; the paths come from the presets.

use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: deepseek, qwen, moonshot, zhipu, minimax with api=anthropic: their Anthropic paths
--- http_config
llm_upstream ds preset=deepseek api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream qw preset=qwen api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream ms preset=moonshot api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream zp preset=zhipu api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream mm preset=minimax api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m1 ds;
llm_route m2 qw;
llm_route m3 ms;
llm_route m4 zp;
llm_route m5 mm;
--- config
location /gw/ { include ../../../conf/llm_params; }
location /anthropic/ { llm_mock; }
location /apps/ { llm_mock; }
location /api/ { llm_mock; }
--- request eval
[map { "POST /gw/messages\n{\"model\":\"m$_\",\"max_tokens\":5,\"messages\":[]}" } 1 .. 5]
--- more_headers
Content-Type: application/json
--- error_code eval
[(200) x 5]
--- response_headers eval
["X-Mock-Uri: /anthropic/v1/messages",
 "X-Mock-Uri: /apps/anthropic/v1/messages",
 "X-Mock-Uri: /anthropic/v1/messages",
 "X-Mock-Uri: /api/anthropic/v1/messages",
 "X-Mock-Uri: /anthropic/v1/messages"]
--- no_error_log
[error]



=== TEST 2: an OpenAI client reaches DeepSeek's Anthropic endpoint translated
--- http_config
llm_upstream ds preset=deepseek api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route deepseek-chat ds;
--- config
location /gw/ { include ../../../conf/llm_params; }
location /anthropic/ { llm_mock "content=Hi"; }
--- request
POST /gw/chat/completions
{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /anthropic/v1/messages
--- response_body_like eval
qr/"object":"chat\.completion".*"content":"Hi"/
--- no_error_log
[error]



=== TEST 3: hunyuan, qianfan, siliconflow: OpenAI-compatible paths
--- http_config
llm_upstream hy preset=hunyuan host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream qf preset=qianfan host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_upstream sf preset=siliconflow host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m1 hy;
llm_route m2 qf;
llm_route m3 sf;
--- config
location /gw/ { include ../../../conf/llm_params; }
location /v1/ { llm_mock; }
location /v2/ { llm_mock; }
--- request eval
[map { "POST /gw/chat/completions\n{\"model\":\"m$_\",\"messages\":[]}" } 1 .. 3]
--- more_headers
Content-Type: application/json
--- error_code eval
[(200) x 3]
--- response_headers eval
["X-Mock-Uri: /v1/chat/completions",
 "X-Mock-Uri: /v2/chat/completions",
 "X-Mock-Uri: /v1/chat/completions"]
--- no_error_log
[error]



=== TEST 4: an explicit path= still overrides the preset's Anthropic path
--- http_config
llm_upstream ds preset=deepseek api=anthropic path=/own host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m ds;
--- config
location /gw/ { include ../../../conf/llm_params; }
location /own/ { llm_mock; }
--- request
POST /gw/messages
{"model":"m","max_tokens":5,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /own/messages
--- no_error_log
[error]
