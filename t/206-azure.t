# api=azure and preset=azure: Azure OpenAI's deployment URLs
# ({path}/openai/deployments/{model}/{endpoint}?api-version=), the key in
# api-key, OpenAI's chat completions shape otherwise (so usage, the usage
# chunk the router asks for, prices and budgets work as for OpenAI), and
# translation for Anthropic clients.  The Azure mock (llm_mock api=azure)
# answers as Azure does: 404 "Resource not found" without api-version or
# off a deployment's path, 401 without a key, 400 on an unknown field.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

run_tests();

__DATA__

=== TEST 1: preset=azure: the deployment URL with the default api-version, the key in api-key and nowhere else
--- http_config
log_format usage 'usage: $llm_provider $llm_api $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream az preset=azure host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay key=az-key-1;
llm_route gpt-4o az:my-gpt4o-deployment;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Api $llm_api always;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header api-key $http_api_key;
    add_header X-Key $http_api_key;
    add_header X-Auth "[$http_authorization]";
    add_header X-Args "[$args]";
    add_header X-Body $request_body;
}
location /mock/ { llm_mock api=azure "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
Authorization: Bearer client-key
api-key: client-azure-key
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/openai/deployments/my-gpt4o-deployment/chat/completions
X-Args: [api-version=2024-10-21]
X-Key: az-key-1
X-Auth: []
X-Api: azure
X-Body: {"model":"my-gpt4o-deployment","messages":[{"role":"user","content":"hi"}]}
--- response_body_like eval
qr/^\{"id":"chatcmpl-mock","object":"chat\.completion",.*"content":"Hi there".*"usage":\{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7/
--- access_log
usage: az azure gpt-4o p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: api=azure with api_version=, streamed: the usage chunk the router asks for is counted and not shown to a client that did not ask
--- http_config
log_format usage 'usage: $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream az api=azure api_version=2025-04-01-preview host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay key=az-key-1;
llm_route gpt-4o az:dep1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header api-key $http_api_key;
    proxy_buffering off;
    add_header X-Args "[$args]";
}
location /mock/ { llm_mock api=azure "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/openai/deployments/dep1/chat/completions
X-Args: [api-version=2025-04-01-preview]
--- response_body_like eval
qr/^data: \{"choices":\[\],"created":0,"id":"","model":"","object":"","prompt_filter_results".*"content":"Hi ".*"content":"there".*"finish_reason":"stop"\}\],"usage":null\}\n\ndata: \[DONE\]\n\n\z/s
--- response_body_unlike
"usage":\{
--- access_log
usage: gpt-4o stream=1 p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: an Anthropic client reaches an Azure deployment: translated to chat, the same URL shape, the answer a message
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream az preset=azure host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay key=az-key-1;
llm_route claude-sonnet az:dep2;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header api-key $http_api_key;
    add_header X-Args "[$args]";
    add_header X-Body $request_body;
}
location /mock/ { llm_mock api=azure "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request eval
["POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":20,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Mock-Uri: /mock/openai/deployments/dep2/chat/completions\nX-Args: [api-version=2024-10-21]\nX-Body: {\"model\":\"dep2\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "X-Mock-Uri: /mock/openai/deployments/dep2/chat/completions\nX-Args: [api-version=2024-10-21]"]
--- response_body_like eval
[qr/^\{"id":"chatcmpl-mock","type":"message","role":"assistant","model":"claude-sonnet","content":\[\{"type":"text","text":"Hi there"\}\],"stop_reason":"end_turn".*"input_tokens":5.*"output_tokens":2\}\}$/,
 qr/^event: message_start\n.*"text":"Hi ".*"text":"there".*"usage":\{"input_tokens":5,"cache_read_input_tokens":0,"output_tokens":2\}\}\n\nevent: message_stop\n/s]
--- access_log eval
qr/usage: claude-sonnet p=5 c=2/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: embeddings go to the deployment's /embeddings; Azure's errors pass through to OpenAI clients and are translated for Anthropic clients
--- http_config
llm_upstream az api=azure host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=az-key-1;
llm_upstream azd api=azure host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/down key=az-key-1;
llm_route emb az:text-embedding-3-small;
llm_route bad azd:dep;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /openai/ { llm_mock api=azure; }
location /down/ { llm_mock api=azure status=400; }
--- request eval
["POST /v1/embeddings\n{\"model\":\"emb\",\"input\":\"x\"}",
 "POST /v1/chat/completions\n{\"model\":\"bad\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"bad\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 400, 400]
--- response_headers eval
["X-Mock-Uri: /openai/deployments/text-embedding-3-small/embeddings", "X-Mock-Uri: /down/openai/deployments/dep/chat/completions", ""]
--- response_body_like eval
[qr/"object":"list"/,
 qr/^\{"error":\{"code":"400","message":"mock error 400"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"mock error 400"\}\}$/]
--- no_error_log
[alert]
[crit]



=== TEST 5: the Azure mock answers as Azure does: no api-version or not a deployment's path: 404; no key: 401; an unknown field: 400
--- config
location /mock/ { llm_mock api=azure; }
--- request eval
["POST /mock/openai/deployments/d/chat/completions\n{\"messages\":[]}",
 "POST /mock/v1/chat/completions?api-version=2024-10-21\n{\"messages\":[]}",
 "POST /mock/openai/deployments/d/chat/completions?api-version=2024-10-21\n{\"messages\":[]}",
 "POST /mock/openai/deployments/d/chat/completions?api-version=2024-10-21\n{\"messages\":[],\"system\":\"x\"}"]
--- more_headers eval
["Content-Type: application/json\napi-key: k", "Content-Type: application/json\napi-key: k", "Content-Type: application/json", "Content-Type: application/json\napi-key: k"]
--- error_code eval
[404, 404, 401, 400]
--- response_body eval
['{"error":{"code":"404","message":"Resource not found"}}',
 '{"error":{"code":"404","message":"Resource not found"}}',
 '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}',
 '{"error":{"message":"Unrecognized request argument supplied: system","type":"invalid_request_error","param":null,"code":null}}']
--- no_error_log
[alert]
[crit]



=== TEST 6: preset=azure needs the resource's host
--- http_config
llm_upstream az preset=azure key=k;
llm_route m az;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "az" needs "host=" with preset "azure" \(the resource's host, e\.g\. RESOURCE\.openai\.azure\.com\) in \S+/nginx\.conf:25$}



=== TEST 7: api_version= takes a version, nothing that could change the query string
--- http_config
llm_upstream az api=azure api_version=2024-10-21&x=1 host=127.0.0.1 key=k;
llm_route m az;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "api_version=2024-10-21&x=1" in llm_upstream "az" in \S+/nginx\.conf:25$}
