# API translation to Gemini's native API (api=gemini): an OpenAI chat
# client and an Anthropic messages client reaching generateContent and
# streamGenerateContent?alt=sse, JSON and SSE, tools, images, errors,
# refusals, usage in the access log, failover across APIs.
#
# The Gemini mock (llm_mock api=gemini) answers as Google does: 404 on
# other APIs' paths, 403 without a key, 400 "Unknown name" on a field
# generateContent does not have.  A relay location in front of it shows
# the provider's request in X-Body; the field mapping itself is tested in
# fuzz/test_xlate.c.

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

=== TEST 1: OpenAI client, Gemini provider: generateContent with x-goog-api-key, the answer a chat.completion
--- http_config
log_format usage 'usage: $llm_provider $llm_api $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Api $llm_api always;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header x-goog-api-key $http_x_goog_api_key;
    add_header X-Body $request_body;
    add_header X-Key $http_x_goog_api_key;
    add_header X-Auth "[$http_authorization]";
    add_header X-Args "[$args]";
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"temperature":0.5,"max_tokens":50}
--- more_headers
Content-Type: application/json
Authorization: Bearer client-key
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/g/v1beta/models/gemini-2.5-flash:generateContent
X-Body: {"contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]},"generationConfig":{"temperature":0.5,"maxOutputTokens":50}}
X-Key: gk-1
X-Auth: []
X-Args: []
X-Attempts: g:200
X-Api: gemini
Content-Type: application/json
--- response_body_like eval
qr/^\{"id":"chatcmpl-mock-resp","object":"chat\.completion","created":\d+,"model":"gpt-4o","choices":\[\{"index":0,"message":\{"role":"assistant","content":"Hi there"\},"logprobs":null,"finish_reason":"stop"\}\],"usage":\{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":\{"cached_tokens":0\}\}\}$/
--- access_log
usage: g gemini gpt-4o p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: OpenAI client, Gemini provider, streamed: streamGenerateContent?alt=sse, chunks event by event, the usage chunk asked for
--- http_config
log_format usage 'usage: $llm_provider $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header x-goog-api-key $http_x_goog_api_key;
    proxy_buffering off;
    add_header X-Args "[$args]";
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/g/v1beta/models/gemini-2.5-flash:streamGenerateContent
X-Args: [alt=sse]
Content-Type: text/event-stream
--- response_body_like eval
my $c = q!data: \{"id":"chatcmpl-mock-resp","object":"chat\.completion\.chunk","created":\d+,"model":"gpt-4o","choices":\[!;
qr/^${c}\{"index":0,"delta":\{"role":"assistant","content":""\},"finish_reason":null\}\]\}\n\n${c}\{"index":0,"delta":\{"content":"Hi "\},"finish_reason":null\}\]\}\n\n${c}\{"index":0,"delta":\{"content":"there"\},"finish_reason":null\}\]\}\n\n${c}\{"index":0,"delta":\{\},"finish_reason":"stop"\}\]\}\n\n${c}\],"usage":\{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":\{"cached_tokens":0\}\}\}\n\ndata: \[DONE\]\n\n$/
--- access_log
usage: g gpt-4o stream=1 p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: Anthropic client, Gemini provider: through chat; top_k and the thinking budget reach generationConfig; the answer is a message
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/g/v1beta key=gk-1;
llm_route claude-sonnet g:gemini-2.5-pro;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header x-goog-api-key $http_x_goog_api_key;
    add_header X-Body $request_body;
    add_header X-Version "[$http_anthropic_version]";
    add_header X-Key "[$http_x_api_key]";
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=Hi there" prompt_tokens=9 completion_tokens=3; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":300,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"top_k":40,"thinking":{"type":"enabled","budget_tokens":1024},"metadata":{"user_id":"u1"}}
--- more_headers
Content-Type: application/json
anthropic-version: 2023-06-01
x-api-key: client-key
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/g/v1beta/models/gemini-2.5-pro:generateContent
X-Body: {"contents":[{"role":"user","parts":[{"text":"hi"}]}],"systemInstruction":{"parts":[{"text":"Be brief."}]},"generationConfig":{"topK":40,"maxOutputTokens":300,"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}}
X-Version: []
X-Key: []
x-llm-dropped: metadata
Content-Type: application/json
--- response_body chomp
{"id":"msg_mock-resp","type":"message","role":"assistant","model":"claude-sonnet","content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":3}}
--- access_log
usage: g claude-sonnet p=9 c=3
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: Anthropic client, Gemini provider, streamed: Anthropic's events, usage in message_delta
--- http_config
log_format usage 'usage: $llm_provider $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_route claude-sonnet g:gemini-2.5-pro;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=Hi there" prompt_tokens=9 completion_tokens=3; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":300,"messages":[{"role":"user","content":"hi"}],"stream":true}
--- more_headers
Content-Type: application/json
anthropic-version: 2023-06-01
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body eval
"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock-resp\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-sonnet\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}}\n\n"
. "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
. "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \"}}\n\n"
. "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"there\"}}\n\n"
. "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
. "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":9,\"cache_read_input_tokens\":0,\"output_tokens\":3}}\n\n"
. "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
--- access_log
usage: g claude-sonnet stream=1 p=9 c=3
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: OpenAI client: tools, tool_choice, a tool call and its result, an inline image and an image URL become Gemini's parts
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header x-goog-api-key $http_x_goog_api_key;
    add_header X-Body $request_body;
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=It is sunny"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"Weather here?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0K","detail":"low"}},{"type":"image_url","image_url":{"url":"https://example.com/street.jpg"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"20C, sunny"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false},"strict":true}}],"tool_choice":"required","stop":["END"],"top_p":0.9,"seed":7,"user":"u-1"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"contents":[{"role":"user","parts":[{"text":"Weather here?"},{"inlineData":{"mimeType":"image/png","data":"iVBORw0K"}},{"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/street.jpg"}}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"20C, sunny"}}}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather of a city","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}]}],"generationConfig":{"stopSequences":["END"],"topP":0.9,"seed":7},"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}
x-llm-dropped: detail, strict, user
--- response_body_like eval
qr/"content":"It is sunny"/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: Gemini calls a function, thinks and reads from its cache (JSON): tool_calls with a made-up id, reasoning_content, exact usage and cost for both clients
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
llm_route claude-sonnet g:gemini-2.5-flash;
llm_price g:* input=1 output=2 cached_input=0.1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /fake/ {
    default_type application/json;
    return 200 '{"candidates":[{"content":{"role":"model","parts":[{"text":"Checking the map","thought":true},{"text":"Let me look."},{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":175,"cachedContentTokenCount":100,"thoughtsTokenCount":25},"modelVersion":"gemini-2.5-flash","responseId":"r1"}';
}
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"Paris?\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"Paris?\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"id":"chatcmpl-r1","object":"chat\.completion","created":\d+,"model":"gpt-4o","choices":\[\{"index":0,"message":\{"role":"assistant","content":"Let me look\.","reasoning_content":"Checking the map","tool_calls":\[\{"index":0,"id":"call_r1_0","type":"function","function":\{"name":"get_weather","arguments":"\{\\"city\\":\\"Paris\\"\}"\}\}\]\},"logprobs":null,"finish_reason":"tool_calls"\}\],"usage":\{"prompt_tokens":120,"completion_tokens":55,"total_tokens":175,"prompt_tokens_details":\{"cached_tokens":100\},"completion_tokens_details":\{"reasoning_tokens":25\}\}\}$/,
 qr/^\{"id":"msg_r1","type":"message","role":"assistant","model":"claude-sonnet","content":\[\{"type":"thinking","thinking":"Checking the map","signature":""\},\{"type":"text","text":"Let me look\."\},\{"type":"tool_use","id":"call_r1_0","name":"get_weather","input":\{"city":"Paris"\}\}\],"stop_reason":"tool_use","stop_sequence":null,"usage":\{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":55\}\}$/]
--- access_log eval
qr/usage: (?:gpt-4o|claude-sonnet) p=120 c=55 t=175 cost=0\.000140000;/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: Gemini calls a function in a stream: one tool_calls delta (OpenAI), a tool_use block with its input (Anthropic); usage counted
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens cost=$llm_cost;';
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
llm_route claude-sonnet g:gemini-2.5-flash;
llm_price g:* input=1 output=2 cached_input=0.1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /fake/ {
    default_type text/event-stream;
    return 200 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"On it."}]},"index":0}],"usageMetadata":{"promptTokenCount":120,"totalTokenCount":120},"responseId":"r2"}\r\n\r\ndata: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo","unit":"C"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":150,"cachedContentTokenCount":100},"responseId":"r2"}\r\n\r\n';
}
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Oslo?\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":100,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"Oslo?\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"delta":\{"content":"On it\."\}.*"delta":\{"tool_calls":\[\{"index":0,"id":"call_r2_0","type":"function","function":\{"name":"get_weather","arguments":"\{\\"city\\":\\"Oslo\\",\\"unit\\":\\"C\\"\}"\}\}\]\},"finish_reason":null.*"finish_reason":"tool_calls"\}\]\}\n\ndata: \[DONE\]\n\n$/s,
 qr/"content_block":\{"type":"tool_use","id":"call_r2_0","name":"get_weather","input":\{\}\}\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":1,"delta":\{"type":"input_json_delta","partial_json":"\{\\"city\\":\\"Oslo\\",\\"unit\\":\\"C\\"\}"\}\}.*"stop_reason":"tool_use".*"usage":\{"input_tokens":20,"cache_read_input_tokens":100,"output_tokens":30\}\}\n\nevent: message_stop\n/s]
--- access_log eval
qr/usage: (?:gpt-4o|claude-sonnet) p=120 c=30 cost=0\.000090000;/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: the next turn: a tool result names Gemini's made-up call id; the function's name is found in the history
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/g/v1beta key=gk-1;
llm_route claude-sonnet g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_set_header x-goog-api-key $http_x_goog_api_key;
    add_header X-Body $request_body;
}
location /mock/g/v1beta/ { llm_mock api=gemini "content=Sunny"; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":100,"messages":[{"role":"user","content":"Oslo?"},{"role":"assistant","content":[{"type":"tool_use","id":"call_r2_0","name":"get_weather","input":{"city":"Oslo"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_r2_0","content":[{"type":"text","text":"-3C"}]},{"type":"text","text":"And tomorrow?"}]}],"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"get_weather"}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"contents":[{"role":"user","parts":[{"text":"Oslo?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Oslo"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"output":"-3C"}}},{"text":"And tomorrow?"}]}],"tools":[{"functionDeclarations":[{"name":"get_weather","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}}}}]}],"generationConfig":{"maxOutputTokens":100},"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}}
--- response_body_like eval
qr/"content":\[\{"type":"text","text":"Sunny"\}\]/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: Gemini's errors reach each client in its own format with the same status
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
llm_route claude-sonnet g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/g/v1beta/ { llm_mock api=gemini status=400; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400]
--- response_body eval
['{"error":{"message":"mock error 400","type":"INVALID_ARGUMENT","param":null,"code":null}}',
 '{"type":"error","error":{"type":"invalid_request_error","message":"mock error 400"}}',
 '{"error":{"message":"mock error 400","type":"INVALID_ARGUMENT","param":null,"code":null}}']
--- no_error_log
[alert]
[crit]



=== TEST 10: what Gemini cannot represent is a 400 in the client's format naming the field; nothing reaches the provider
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts "[$llm_attempts]" always;
}
location /mock/g/v1beta/ { llm_mock api=gemini; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"logprobs\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"ftp://x/y.png\"}}]}]}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"tool\",\"tool_call_id\":\"call_9\",\"content\":\"x\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400]
--- response_headers eval
["X-Attempts: []", "X-Attempts: []", "X-Attempts: []", "X-Attempts: []"]
--- response_body_like eval
[qr/^\{"error":\{"message":"'n' other than 1 is not translated to Gemini \(one answer per request\)","type":"invalid_request_error","param":"n","code":"unsupported_parameter"\}\}$/,
 qr/^\{"error":\{"message":"'logprobs' is not translated to Gemini","type":"invalid_request_error","param":"logprobs","code":"unsupported_parameter"\}\}$/,
 qr/"param":"messages\[0\]\.content\[0\]","code":"unsupported_parameter"/,
 qr/"param":"messages\[0\]\.tool_call_id","code":"unsupported_parameter"/]
--- no_error_log
[alert]
[crit]



=== TEST 11: one route, OpenAI and Gemini providers: failover both ways is invisible to the client, streaming too
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream od host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/down/v1 key=sk-o max_fails=0;
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_upstream gd api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/gdown/v1beta key=gk-1 max_fails=0;
llm_route to-gemini od g:gemini-2.5-flash;
llm_route to-openai gd:gemini-2.5-flash o:gpt-4o-mini;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Api $llm_api always;
}
location /mock/o/v1/ { llm_mock "content=From OpenAI"; }
location /mock/down/v1/ { llm_mock status=503; }
location /mock/g/v1beta/ { llm_mock api=gemini "content=From Gemini"; }
location /mock/gdown/v1beta/ { llm_mock api=gemini status=503; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"to-gemini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"to-openai\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"to-gemini\",\"max_tokens\":9,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"to-openai\",\"max_tokens\":9,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Attempts: od:503 g:200\nX-Api: gemini", "X-Attempts: gd:503 o:200\nX-Api: openai",
 "X-Attempts: od:503 g:200\nX-Api: gemini", "X-Attempts: gd:503 o:200\nX-Api: openai"]
--- response_body_like eval
[qr/^\{"id":"chatcmpl-mock-resp","object":"chat\.completion".*"model":"to-gemini".*"content":"From Gemini"/,
 qr/^\{"id":"chatcmpl-mock","object":"chat\.completion".*"content":"From OpenAI"/,
 qr/^event: message_start\n.*"model":"to-gemini".*"text":"From ".*"text":"Gemini".*event: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/s,
 qr/^event: message_start\n.*"text":"From ".*"text":"OpenAI".*event: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/s]
--- no_error_log
[alert]
[crit]



=== TEST 12: a token budget stays exact through translation: the reservation, then Gemini's real usage (cached and thoughts included)
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
llm_budget key=team tokens=10000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /fake/ {
    default_type application/json;
    return 200 '{"candidates":[{"content":{"role":"model","parts":[{"text":"Hm","thought":true},{"text":"Yes."}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":120,"candidatesTokenCount":30,"totalTokenCount":175,"cachedContentTokenCount":100,"thoughtsTokenCount":25},"responseId":"r3"}';
}
--- request eval
[("POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}") x 3]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
my $len = length '{"model":"gpt-4o","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';
[map { "x-ratelimit-remaining-tokens: " . (10000 - $_ * 175 - $len - 100) } 0 .. 2]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 13: a Gemini-only route does not serve embeddings; a model name that cannot be part of Gemini's URL is not sent
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_route emb g:gemini-embedding-001;
llm_route default g;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts "[$llm_attempts]" always;
}
location /mock/ { llm_mock api=gemini; }
--- request eval
["POST /v1/embeddings\n{\"model\":\"emb\",\"input\":\"x\"}",
 "POST /v1/chat/completions\n{\"model\":\"any\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"../../files/x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 200, 400]
--- response_headers eval
["X-Attempts: []", "X-Mock-Uri: /mock/g/v1beta/models/any:generateContent", "X-Attempts: []"]
--- response_body_like eval
[qr/"message":"No provider of the route of model `emb` serves embeddings"/,
 qr/"model":"any"/,
 qr/"code":"unsupported_endpoint"/]
--- no_error_log
[alert]
[crit]



=== TEST 14: the Gemini mock answers as Google does: 404 on other APIs' paths, 403 without a key, 400 on an unknown field, alt=sse for streams
--- config
location /mock/ { llm_mock api=gemini; }
--- request eval
["POST /mock/v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
 "POST /mock/v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[]}",
 "POST /mock/v1beta/models/gemini-2.5-flash:generateContent?key=k\n{\"contents\":[],\"messages\":[]}",
 "POST /mock/v1beta/models/gemini-2.5-flash:streamGenerateContent?key=k\n{\"contents\":[]}",
 "POST /mock/v1beta/models/gemini-2.5-flash:generateContent?key=k\n{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"x\"}]}],\"generationConfig\":{\"maxOutputTokens\":5}}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[404, 403, 400, 400, 200]
--- response_body_like eval
[qr/^\{"error":\{"code":404,"message":"POST \/mock\/v1\/chat\/completions: not found","status":"NOT_FOUND"\}\}$/,
 qr/^\{"error":\{"code":403,"message":"Method doesn't allow unregistered callers.*","status":"PERMISSION_DENIED"\}\}$/,
 qr/^\{"error":\{"code":400,"message":"Invalid JSON payload received\. Unknown name \\"messages\\": Cannot find field\.","status":"INVALID_ARGUMENT","details":\[/,
 qr/"status":"INVALID_ARGUMENT"/,
 qr/^\{"candidates":\[\{"content":\{"parts":\[\{"text":"Hello from the mock provider"\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{"promptTokenCount":\d+,"candidatesTokenCount":5,"totalTokenCount":\d+,"promptTokensDetails":\[/]
--- no_error_log
[alert]
[crit]



=== TEST 15: preset=gemini api=gemini is Google's native endpoint (/v1beta), preset=gemini alone the OpenAI-compatible one
--- http_config
llm_upstream gn preset=gemini api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=gk;
llm_upstream go preset=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=gk;
llm_route native gn:gemini-2.5-flash;
llm_route compat go:gemini-2.5-flash;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /v1beta/openai/ { llm_mock; }
location /v1beta/models/ { llm_mock api=gemini; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"native\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"compat\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Mock-Uri: /v1beta/models/gemini-2.5-flash:generateContent", "X-Mock-Uri: /v1beta/openai/chat/completions"]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: api_version= is for api=azure only
--- http_config
llm_upstream g api=gemini api_version=2024-10-21 host=127.0.0.1 tls=off key=k;
llm_route m g;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*"api_version=" in llm_upstream "g" is for api=azure only in \S+/nginx\.conf:25$}



=== TEST 17: a Gemini stream that ends without a finishReason, or with an error event, ends with an error event in the client's format
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/g/v1beta key=gk-1;
llm_upstream e api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fakeerr/g/v1beta key=gk-1;
llm_route gpt-4o g:gemini-2.5-flash;
llm_route claude-sonnet g:gemini-2.5-flash;
llm_route err e:gemini-2.5-flash;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /fake/ {
    default_type text/event-stream;
    return 200 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Half"}]},"index":0}],"responseId":"r4"}\r\n\r\n';
}
location /fakeerr/ {
    default_type text/event-stream;
    return 200 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":"Half"}]},"index":0}],"responseId":"r4"}\r\n\r\ndata: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n';
}
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-sonnet\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"err\",\"max_tokens\":5,\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"delta":\{"content":"Half"\}.*\n\ndata: \{"error":\{"message":"the provider's stream was cut","type":"server_error","param":null,"code":null\}\}\n\n\z/s,
 qr/"text":"Half".*\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"the provider's stream was cut"\}\}\n\n\z/s,
 qr/"text":"Half".*\n\nevent: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"The model is overloaded\."\}\}\n\n\z/s]
--- error_log
ended without its final event
--- no_error_log
[alert]
[crit]



=== TEST 18: a member named "" is dropped and named, not looked for forever (translated requests hung a worker)
--- http_config
llm_upstream g api=gemini host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/g/v1beta key=gk-1;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route to-gemini g:gemini-2.5-flash;
llm_route to-claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/g/v1beta/ { llm_mock api=gemini; }
location /mock/c/v1/ { llm_mock api=anthropic; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"to-gemini\",\"\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"\":2}",
 "POST /v1/chat/completions\n{\"model\":\"to-claude\",\"\":1,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
['x-llm-dropped: ""', 'x-llm-dropped: ""']
--- timeout: 10
--- no_error_log
[alert]
[crit]
