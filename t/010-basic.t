# Basic routing: the model picks the provider, the model name and the
# credentials are rewritten, the response comes back unchanged.

use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: route by model, rewrite model name
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Provider: a
X-Upstream-Model: gpt-4o-2024-08-06
X-Mock-Uri: /mock/a/v1/chat/completions
--- response_body_like: "model":"gpt-4o-2024-08-06"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: unknown model is a 404 in OpenAI format
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_route gpt-4o a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"nope","messages":[]}
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like: ^\{"error":\{"message":"The model `nope` does not exist[^"]*","type":"invalid_request_error","param":"model","code":"model_not_found"\}\}$
