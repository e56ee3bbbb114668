# API translation for OpenAI Responses API clients (Codex, the Agents SDK):
# POST /v1/responses reaches providers that speak chat completions only
# (api=openai without responses=on: every OpenAI-compatible preset but
# openai) and Anthropic (api=anthropic), JSON and SSE, tools with their
# arguments streamed in pieces, images, errors in the Responses format,
# refusals naming the field, failover across the APIs, usage and budgets.
#
# The request as the provider got it is shown by a relay location in front
# of the mock that returns it in X-Body; X-Mock-Uri shows the path.  The
# chat-only providers are mocked with "llm_mock api=chat", which answers
# /responses with a 404 as they do, so a request that is not translated
# fails.  Streams with tool calls come from a location that returns a
# fixed chat stream.  The field-by-field mapping is tested in
# fuzz/test_xlate_responses.c; here it is the way through nginx.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

# one event of a Responses stream, as a regex: its name, its type, then
# whatever the pattern says up to its sequence_number
sub ev {
    my ($name, $pat, $seq) = @_;
    return "event: \Q$name\E\ndata: \\{\"type\":\"\Q$name\E\"$pat,\"sequence_number\":$seq\\}\n\n";
}

# the same, with the event's members after its type given literally
sub evq {
    my ($name, $text, $seq) = @_;
    return ev($name, quotemeta($text), $seq);
}

our $B_BUDGET = '{"model":"gpt-5","input":"hi","max_output_tokens":100}';

run_tests();

__DATA__

=== TEST 1: Responses client, chat-only provider: the request becomes a chat completion, the answer a response
--- http_config
log_format usage 'usage: $llm_provider $llm_model $llm_api p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/o/v1 key=sk-o;
llm_route gpt-5 o:deepseek-chat;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
    add_header X-Auth $http_authorization;
}
location /mock/o/v1/ { llm_mock api=chat "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/responses
{"model":"gpt-5","instructions":"Be brief.","input":"hi","max_output_tokens":50,"temperature":0.5,"store":false}
--- more_headers
Content-Type: application/json
Authorization: Bearer client-key
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/o/v1/chat/completions
X-Body: {"model":"deepseek-chat","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"max_tokens":50,"temperature":0.5}
X-Auth: Bearer sk-o
X-Attempts: o:200
Content-Type: application/json
!x-llm-dropped
--- response_body chomp
{"id":"resp_chatcmpl-mock","object":"response","created_at":1700000000,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-5","output":[{"id":"msg_0_chatcmpl-mock","type":"message","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Hi there","annotations":[]}]}],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"store":false,"text":{"format":{"type":"text"}},"tool_choice":"auto","tools":[],"truncation":"disabled","usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":7},"user":null,"metadata":{}}
--- access_log
usage: o gpt-5 openai p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: Responses client, chat-only provider, streaming: the events Codex and the Agents SDK read
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/o/v1 key=sk-o;
llm_route gpt-5 o:deepseek-chat;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
}
location /mock/o/v1/ { llm_mock api=chat "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/responses
{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_text","text":"hi"}]}],"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Mock-Uri: /mock/o/v1/chat/completions
X-Body: {"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}
--- response_body_like eval
my $r = '"id":"resp_chatcmpl-mock","object":"response","created_at":1700000000';
my $m = '"id":"msg_0_chatcmpl-mock"';
my $i = ',"item_id":"msg_0_chatcmpl-mock","output_index":0,"content_index":0';
my $part = '\{"type":"output_text","text":"Hi there","annotations":\[\]\}';
qr/^/
 . main::ev('response.created', ",\"response\":\\{$r,\"status\":\"in_progress\".*?\"output\":\\[\\].*?\"usage\":null.*?\\}", 0)
 . main::ev('response.in_progress', ",\"response\":\\{$r,\"status\":\"in_progress\".*?\\}", 1)
 . main::ev('response.output_item.added', ",\"output_index\":0,\"item\":\\{$m,\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":\\[\\]\\}", 2)
 . main::ev('response.content_part.added', "$i,\"part\":\\{\"type\":\"output_text\",\"text\":\"\",\"annotations\":\\[\\]\\}", 3)
 . main::ev('response.output_text.delta', "$i,\"delta\":\"Hi \",\"logprobs\":\\[\\]", 4)
 . main::ev('response.output_text.delta', "$i,\"delta\":\"there\",\"logprobs\":\\[\\]", 5)
 . main::ev('response.output_text.done', "$i,\"text\":\"Hi there\",\"logprobs\":\\[\\]", 6)
 . main::ev('response.content_part.done', "$i,\"part\":$part", 7)
 . main::ev('response.output_item.done', ",\"output_index\":0,\"item\":\\{$m,\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":\\[$part\\]\\}", 8)
 . main::ev('response.completed', ",\"response\":\\{$r,\"status\":\"completed\".*?\"model\":\"gpt-5\",\"output\":\\[\\{$m,\"type\":\"message\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":\\[$part\\]\\}\\].*?\"usage\":\\{\"input_tokens\":5,\"input_tokens_details\":\\{\"cached_tokens\":0\\},\"output_tokens\":2,\"output_tokens_details\":\\{\"reasoning_tokens\":0\\},\"total_tokens\":7\\}.*?\\}", 9)
 . qr/\z/s
--- access_log
usage: o gpt-5 p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: Responses client, Anthropic provider: the request becomes a message, the answer a response
--- http_config
log_format usage 'usage: $llm_provider $llm_model $llm_api p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route gpt-5 c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
    add_header X-Key $http_x_api_key;
    add_header X-Version $http_anthropic_version;
}
location /mock/c/v1/ { llm_mock api=anthropic "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/responses
{"model":"gpt-5","instructions":"Be brief.","input":"hi","max_output_tokens":50,"temperature":0.5}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/c/v1/messages
X-Body: {"model":"claude-x","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"system":[{"type":"text","text":"Be brief."}],"temperature":0.5,"max_tokens":50}
X-Key: sk-c
X-Version: 2023-06-01
Content-Type: application/json
--- response_body_like eval
qr/^\{"id":"resp_msg_mock","object":"response","created_at":\d+,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"max_output_tokens":null,"model":"gpt-5","output":\[\{"id":"msg_0_msg_mock","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"Hi there","annotations":\[\]\}\]\}\],.*"usage":\{"input_tokens":5,"input_tokens_details":\{"cached_tokens":0\},"output_tokens":2,"output_tokens_details":\{"reasoning_tokens":0\},"total_tokens":7\},"user":null,"metadata":\{\}\}$/
--- access_log
usage: c gpt-5 anthropic p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: Responses client, Anthropic provider, streaming
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-5 c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/c/v1/ { llm_mock api=anthropic "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/responses
{"model":"gpt-5","input":"hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Mock-Uri: /mock/c/v1/messages
--- response_body_like eval
my $i = ',"item_id":"msg_0_msg_mock","output_index":0,"content_index":0';
qr/^/
 . main::ev('response.created', ',"response":\{"id":"resp_msg_mock".*?', 0)
 . main::ev('response.in_progress', ',"response":\{"id":"resp_msg_mock".*?', 1)
 . main::ev('response.output_item.added', ',"output_index":0,.*?', 2)
 . main::ev('response.content_part.added', "$i,.*?", 3)
 . main::ev('response.output_text.delta', "$i,\"delta\":\"Hi \",\"logprobs\":\\[\\]", 4)
 . main::ev('response.output_text.delta', "$i,\"delta\":\"there\",\"logprobs\":\\[\\]", 5)
 . main::ev('response.output_text.done', "$i,\"text\":\"Hi there\",\"logprobs\":\\[\\]", 6)
 . main::ev('response.content_part.done', "$i,.*?", 7)
 . main::ev('response.output_item.done', ',"output_index":0,.*?"text":"Hi there".*?', 8)
 . main::ev('response.completed', ',"response":\{"id":"resp_msg_mock",.*?"status":"completed".*?"model":"gpt-5".*?"usage":\{"input_tokens":5,"input_tokens_details":\{"cached_tokens":0\},"output_tokens":2,.*?', 9)
 . qr/\z/s
--- access_log
usage: c gpt-5 p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: tool calls streamed with their arguments in pieces, two calls, cached tokens, reasoning tokens
--- http_config
log_format usage 'usage: $llm_provider p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/o/v1 key=sk-o;
llm_route gpt-5 o;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /fake/o/v1/chat/completions {
    default_type text/event-stream;
    return 200 'data: {"id":"chatcmpl-t","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"shell","arguments":""}}]},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-t","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\\"cmd\\\":"}}]},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-t","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\\\"ls\\\"}"}}]},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-t","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_2","type":"function","function":{"name":"read","arguments":"{}"}}]},"finish_reason":null}]}\n\ndata: {"id":"chatcmpl-t","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: {"id":"chatcmpl-t","choices":[],"usage":{"prompt_tokens":100,"completion_tokens":9,"total_tokens":109,"prompt_tokens_details":{"cached_tokens":60},"completion_tokens_details":{"reasoning_tokens":4}}}\n\ndata: [DONE]\n\n';
}
--- request
POST /v1/responses
{"model":"gpt-5","input":"list","stream":true,"tools":[{"type":"function","name":"shell","parameters":{"type":"object"}},{"type":"function","name":"read","parameters":{"type":"object"}}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like eval
my $f1 = ',"item_id":"fc_0_chatcmpl-t","output_index":0';
my $f2 = ',"item_id":"fc_1_chatcmpl-t","output_index":1';
my $c1 = '{"id":"fc_0_chatcmpl-t","type":"function_call","status":"completed","arguments":"{\"cmd\":\"ls\"}","call_id":"call_1","name":"shell"}';
my $c2 = '{"id":"fc_1_chatcmpl-t","type":"function_call","status":"completed","arguments":"{}","call_id":"call_2","name":"read"}';
qr/^/
 . main::ev('response.created', ',.*?', 0)
 . main::ev('response.in_progress', ',.*?', 1)
 . main::evq('response.output_item.added', ',"output_index":0,"item":{"id":"fc_0_chatcmpl-t","type":"function_call","status":"in_progress","arguments":"","call_id":"call_1","name":"shell"}', 2)
 . main::evq('response.function_call_arguments.delta', $f1 . ',"delta":"{\"cmd\":"', 3)
 . main::evq('response.function_call_arguments.delta', $f1 . ',"delta":"\"ls\"}"', 4)
 . main::evq('response.function_call_arguments.done', $f1 . ',"arguments":"{\"cmd\":\"ls\"}"', 5)
 . main::evq('response.output_item.done', ',"output_index":0,"item":' . $c1, 6)
 . main::evq('response.output_item.added', ',"output_index":1,"item":{"id":"fc_1_chatcmpl-t","type":"function_call","status":"in_progress","arguments":"","call_id":"call_2","name":"read"}', 7)
 . main::evq('response.function_call_arguments.delta', $f2 . ',"delta":"{}"', 8)
 . main::evq('response.function_call_arguments.done', $f2 . ',"arguments":"{}"', 9)
 . main::evq('response.output_item.done', ',"output_index":1,"item":' . $c2, 10)
 . main::ev('response.completed', ',"response":\{.*?"status":"completed".*?"output":\[' . quotemeta("$c1,$c2") . '\].*?' . quotemeta('"usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":60},"output_tokens":9,"output_tokens_details":{"reasoning_tokens":4},"total_tokens":109}') . '.*?', 11)
 . qr/\z/s
--- access_log
usage: o p=100 c=9
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: history with images, calls and their results reaches a chat provider; hosted tools and hints are dropped and named
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/o/v1 key=sk-o;
llm_route gpt-5 o:m;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
}
location /mock/o/v1/ { llm_mock api=chat; }
--- request
POST /v1/responses
{"model":"gpt-5","input":[{"type":"message","role":"developer","content":[{"type":"input_text","text":"dev"}]},{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR","detail":"auto"}]},{"type":"reasoning","id":"rs_1","summary":[]},{"type":"function_call","call_id":"call_1","name":"shell","arguments":"{}"},{"type":"function_call_output","call_id":"call_1","output":"ok"}],"tools":[{"type":"function","name":"shell","description":"run","parameters":{"type":"object"}},{"type":"web_search"}],"tool_choice":"required","parallel_tool_calls":false,"reasoning":{"effort":"low","summary":"auto"},"text":{"format":{"type":"json_schema","name":"o","schema":{"type":"object"},"strict":true}},"include":["reasoning.encrypted_content"],"prompt_cache_key":"k"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"model":"m","messages":[{"role":"system","content":"dev"},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"shell","arguments":"{}"}}]},{"role":"tool","tool_call_id":"call_1","content":"ok"}],"tools":[{"type":"function","function":{"name":"shell","description":"run","parameters":{"type":"object"}}}],"reasoning_effort":"low","response_format":{"type":"json_schema","json_schema":{"name":"o","schema":{"type":"object"},"strict":true}},"tool_choice":"required","parallel_tool_calls":false}
x-llm-dropped: input.reasoning, tools.web_search, reasoning.summary, include, prompt_cache_key
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: the same history reaches Anthropic: tool_use and tool_result blocks, the image as a base64 source
--- http_config
llm_upstream c api=anthropic max_tokens_default=100 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route gpt-5 c:claude-x;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
}
location /mock/c/v1/ { llm_mock api=anthropic; }
--- request
POST /v1/responses
{"model":"gpt-5","instructions":"sys","input":[{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:image/png;base64,iVBOR"}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"let me see"}]},{"type":"function_call","call_id":"call_1","name":"shell","arguments":"{\"cmd\":\"ls\"}"},{"type":"function_call_output","call_id":"call_1","output":"a b"}],"tools":[{"type":"function","name":"shell","parameters":{"type":"object"}}],"reasoning":{"effort":"high"}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"model":"claude-x","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]},{"role":"assistant","content":[{"type":"text","text":"let me see"},{"type":"tool_use","id":"call_1","name":"shell","input":{"cmd":"ls"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"a b"}]}],"system":[{"type":"text","text":"sys"}],"tools":[{"name":"shell","input_schema":{"type":"object"}}],"max_tokens":100}
x-llm-dropped: reasoning.effort
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: what needs OpenAI's stored state or has no equivalent: 400 in the Responses (OpenAI) format naming the field
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-5 o;
llm_route claude c;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts "[$llm_attempts]" always;
}
location /mock/o/v1/ { llm_mock api=chat; }
location /mock/c/v1/ { llm_mock api=anthropic; }
--- request eval
['POST /v1/responses
{"model":"gpt-5","input":"hi","previous_response_id":"resp_1"}', 'POST /v1/responses
{"model":"gpt-5","input":"hi","store":true}', 'POST /v1/responses
{"model":"gpt-5","input":"hi","background":true}', 'POST /v1/responses
{"model":"gpt-5","input":"hi","tools":[{"type":"web_search"}],"tool_choice":{"type":"web_search"}}', 'POST /v1/responses
{"model":"gpt-5","input":[{"type":"item_reference","id":"msg_1"}]}', 'POST /v1/responses
{"model":"gpt-5","input":[{"role":"user","content":[{"type":"input_image","file_id":"file_1"}]}]}', 'POST /v1/responses
{"model":"claude","input":"hi","text":{"format":{"type":"json_schema","name":"o","schema":{}}}}', 'POST /v1/responses
{"model":"claude","input":"hi","temperature":1.5}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_headers eval
[("X-Attempts: []") x 8]
--- response_body_like eval
[
 qr/^\{"error":\{"message":"'previous_response_id' needs state stored by OpenAI, which the provider does not have: send the whole conversation in 'input'","type":"invalid_request_error","param":"previous_response_id","code":"unsupported_parameter"\}\}$/,
 qr/^\{"error":\{"message":"'store' needs responses stored by OpenAI, which the provider does not do: send 'store': false","type":"invalid_request_error","param":"store","code":"unsupported_parameter"\}\}$/,
 qr/"param":"background","code":"unsupported_parameter"\}\}$/,
 qr/^\{"error":\{"message":"'tool_choice' of type web_search has no equivalent at the provider's API","type":"invalid_request_error","param":"tool_choice","code":"unsupported_parameter"\}\}$/,
 qr/"param":"input\[0\]","code":"unsupported_parameter"\}\}$/,
 qr/"param":"input\[0\]\.content\[0\]","code":"unsupported_parameter"\}\}$/,
 qr/"param":"text\.format","code":"unsupported_parameter"\}\}$/,
 qr/"param":"temperature","code":"unsupported_parameter"\}\}$/,
]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: a refused target is skipped for one that serves the Responses API itself (responses=on): the request goes as it is
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream n responses=on host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/n/v1 key=sk-n;
llm_route gpt-5 o n;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/o/v1/ { llm_mock api=chat; }
location /mock/n/v1/ { llm_mock api=openai echo=body; }
--- request
POST /v1/responses
{"model":"gpt-5","input":"hi","previous_response_id":"resp_1"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: n:200
X-Mock-Uri: /mock/n/v1/responses
--- response_body chomp
{"model":"gpt-5","input":"hi","previous_response_id":"resp_1"}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: preset=openai serves the Responses API itself; responses=off makes it chat completions
--- http_config
llm_upstream n preset=openai host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/n/v1 key=sk-n;
llm_upstream f preset=openai responses=off host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/f/v1 key=sk-f;
llm_route native n;
llm_route forced f;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/ { llm_mock api=openai; }
--- request eval
['POST /v1/responses
{"model":"native","input":"hi"}', 'POST /v1/responses
{"model":"forced","input":"hi"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Mock-Uri: /mock/n/v1/responses", "X-Mock-Uri: /mock/f/v1/chat/completions"]
--- response_body_like eval
['^\{"id":"resp_mock","object":"response",', '^\{"id":"resp_chatcmpl-mock","object":"response",']
--- no_error_log
[error]
[alert]
[crit]



=== TEST 11: provider errors reach the Responses client in its format with the same status
(the OpenAI mock types every error server_error; Anthropic's types are kept)
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-5 o;
llm_route claude c;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/o/v1/ { llm_mock api=chat status=400; }
location /mock/c/v1/ { llm_mock api=anthropic status=404; }
--- request eval
['POST /v1/responses
{"model":"gpt-5","input":"hi"}', 'POST /v1/responses
{"model":"claude","input":"hi","stream":true}']
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 404]
--- response_body eval
['{"error":{"message":"mock error 400","type":"server_error","param":null,"code":null}}',
 '{"error":{"message":"mock error 404","type":"not_found_error","param":null,"code":null}}']
--- no_error_log
[alert]
[crit]



=== TEST 12: failover across APIs is invisible to a Responses client: Anthropic (529) to chat, chat (503) to Anthropic streaming
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream c2 api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c2/v1 key=sk-c;
llm_upstream o2 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o2/v1 key=sk-o;
llm_route gpt-5 c:claude-x o;
llm_route gpt-5s o2 c2:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Api $llm_api always;
}
location /mock/c/v1/ { llm_mock api=anthropic status=529; }
location /mock/o/v1/ { llm_mock api=chat "content=Hi there"; }
location /mock/o2/v1/ { llm_mock api=chat status=503; }
location /mock/c2/v1/ { llm_mock api=anthropic "content=Hi there"; }
--- request eval
['POST /v1/responses
{"model":"gpt-5","input":"hi"}', 'POST /v1/responses
{"model":"gpt-5s","input":"hi","stream":true}']
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["X-Attempts: c:529 o:200\nX-Api: openai", "X-Attempts: o2:503 c2:200\nX-Api: anthropic"]
--- response_body_like eval
['^\{"id":"resp_chatcmpl-mock","object":"response",.*"model":"gpt-5","output":\[\{"id":"msg_0_chatcmpl-mock","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"Hi there","annotations":\[\]\}\]\}\]',
 '^event: response\.created\n.*"model":"gpt-5s".*event: response\.output_text\.delta\n.*"delta":"Hi ".*event: response\.completed\ndata: \{"type":"response\.completed",.*"text":"Hi there".*\n\n\z']
--- no_error_log
[alert]
[crit]



=== TEST 13: a stream that ends without its final chunk reaches the client as response.failed; usage is still counted
--- http_config
log_format usage 'usage: $llm_provider p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/fake/o/v1 key=sk-o;
llm_route gpt-5 o;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /fake/o/v1/chat/completions {
    default_type text/event-stream;
    return 200 'data: {"id":"chatcmpl-c","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}}\n\n';
}
--- request
POST /v1/responses
{"model":"gpt-5","input":"hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like eval
qr/event: response\.output_text\.delta\ndata: \{[^\n]*"delta":"Hel"[^\n]*\n\n/
 . main::ev('response.failed', ',"response":\{"id":"resp_chatcmpl-c",.*?"output":\[\],.*?"usage":\{"input_tokens":8,.*?"status":"failed","error":\{"code":"server_error","message":"the provider\'s stream was cut"\}\}', 5)
 . qr/\z/s
--- access_log
usage: o p=8 c=1
--- error_log
ended without its final event
--- no_error_log
[alert]
[crit]



=== TEST 14: budgets count the translated answer's usage exactly
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route gpt-5 o;
llm_budget key=$llm_model tokens=100000/d;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/o/v1/ { llm_mock api=chat prompt_tokens=11 completion_tokens=22; }
--- request eval
["POST /v1/responses\n$::B_BUDGET", "POST /v1/responses\n$::B_BUDGET"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
["x-ratelimit-remaining-tokens: " . (100000 - length($::B_BUDGET) - 100),
 "x-ratelimit-remaining-tokens: " . (100000 - 33 - length($::B_BUDGET) - 100)]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: the chat-only mock answers /responses with a 404, as such providers do
--- config
location /mock/ { llm_mock api=chat; }
--- request
POST /mock/v1/responses
{"model":"m","input":"x"}
--- error_code: 404
--- response_body chomp
{"error":{"message":"Invalid URL (POST /mock/v1/responses)","type":"invalid_request_error","param":null,"code":null}}



=== TEST 16: responses=on needs an OpenAI API
--- http_config
llm_upstream c api=anthropic responses=on host=127.0.0.1 tls=off key=k;
llm_route m c;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log
"responses=on" of llm_upstream "c" needs "api=openai" or "api=azure"



=== TEST 17: a mock that names its API refuses fields its endpoint does not take, with the provider's own 400
--- config
location /chat/ { llm_mock api=chat; }
location /openai/ { llm_mock api=openai; }
location /anthropic/ { llm_mock api=anthropic; }
--- request eval
['POST /chat/v1/chat/completions
{"model":"m","messages":[],"input":"x"}', 'POST /openai/v1/responses
{"model":"m","input":"x","messages":[]}', 'POST /anthropic/v1/messages
{"model":"m","max_tokens":1,"messages":[],"n":2}', 'POST /openai/v1/responses
{"model":"m","input":"x","text":{"format":{"type":"text"}},"tools":[{"type":"function","name":"f","parameters":{"a":[1,{"b":"}"}]}}],"store":false}']
--- error_code eval
[400, 400, 400, 200]
--- response_body_like eval
['^' . quotemeta('{"error":{"message":"Unrecognized request argument supplied: input","type":"invalid_request_error","param":null,"code":null}}') . '$',
 '^' . quotemeta(q/{"error":{"message":"Unknown parameter: 'messages'.","type":"invalid_request_error","param":"messages","code":"unknown_parameter"}}/) . '$',
 '^' . quotemeta('{"type":"error","error":{"type":"invalid_request_error","message":"n: Extra inputs are not permitted"}}') . '$',
 '^\{"id":"resp_mock","object":"response",.*"status":"completed"']



=== TEST 18: a member named "" is dropped and named (it used to hang the worker in every translator)
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-5 c:claude-x;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/c/v1/ { llm_mock api=anthropic; }
--- request eval
['POST /v1/responses
{"model":"gpt-5","input":"hi","":1}', 'POST /v1/chat/completions
{"model":"gpt-5","messages":[{"role":"user","content":"hi"}],"":1,"":2}']
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers eval
['x-llm-dropped: ""', 'x-llm-dropped: ""']
--- timeout: 10
--- no_error_log
[error]
[alert]
[crit]
