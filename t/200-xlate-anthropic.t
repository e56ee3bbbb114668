# API translation between OpenAI chat completions and Anthropic messages:
# an OpenAI client reaching an api=anthropic provider and an Anthropic
# client (Claude Code) reaching an api=openai provider, JSON and SSE,
# refusals, dropped fields, errors, failover across the two APIs.
#
# The request as the provider got it is shown by a relay location in front
# of the mock that returns it in X-Body ($request_body); the mock's
# X-Mock-Uri shows the path.  The field-by-field mapping is tested in
# fuzz/test_xlate.c; here it is the way through nginx.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

sub data_events { join '', map { "data: $_\n\n" } @_ }

sub named_events {
    my @e = @_;
    my $s = '';
    while (my ($name, $data) = splice @e, 0, 2) {
        $s .= "event: $name\ndata: $data\n\n";
    }
    return $s;
}

run_tests();

__DATA__

=== TEST 1: OpenAI client, Anthropic provider: the request becomes a message, the answer a chat.completion
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
    add_header X-Key $http_x_api_key;
    add_header X-Version $http_anthropic_version;
    add_header X-Auth "[$http_authorization]";
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],"temperature":0.5}
--- more_headers
Content-Type: application/json
Authorization: Bearer client-key
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/c/v1/messages
X-Body: {"model":"claude-x","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"system":[{"type":"text","text":"Be brief."}],"temperature":0.5,"max_tokens":4096}
X-Key: sk-c
X-Version: 2023-06-01
X-Auth: []
X-Attempts: c:200
Content-Type: application/json
--- response_body_like eval
qr/^\{"id":"msg_mock","object":"chat\.completion","created":\d+,"model":"gpt-4o","choices":\[\{"index":0,"message":\{"role":"assistant","content":"Hi there"\},"logprobs":null,"finish_reason":"stop"\}\],"usage":\{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":\{"cached_tokens":0\}\}\}$/
--- access_log
usage: c gpt-4o p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: OpenAI client, Anthropic provider, streaming with include_usage
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Mock-Uri: /mock/c/v1/messages
--- response_body_like eval
my $c = '\{"id":"msg_mock","object":"chat\.completion\.chunk","created":\d+,"model":"gpt-4o","choices":\[';
my $e = '\],"finish_reason":null\}\]\}';
qr/^data: $c\{"index":0,"delta":\{"role":"assistant","content":""\},"finish_reason":null\}\]\}\n\n/
 . qr/data: $c\{"index":0,"delta":\{"content":"Hi "\},"finish_reason":null\}\]\}\n\n/
 . qr/data: $c\{"index":0,"delta":\{"content":"there"\},"finish_reason":null\}\]\}\n\n/
 . qr/data: $c\{"index":0,"delta":\{\},"finish_reason":"stop"\}\]\}\n\n/
 . qr/data: $c\],"usage":\{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7,"prompt_tokens_details":\{"cached_tokens":0\}\}\}\n\n/
 . qr/data: \[DONE\]\n\n$/
--- access_log
usage: c gpt-4o p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: Anthropic client, OpenAI provider: the request becomes a chat completion, the answer a message
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/o/v1 key=sk-o;
llm_route claude-sonnet o:gpt-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
    add_header X-Auth $http_authorization;
    add_header X-Key "[$http_x_api_key]";
    add_header X-Version "[$http_anthropic_version]";
}
location /mock/o/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":1024,"system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"metadata":{"user_id":"u1"}}
--- more_headers
Content-Type: application/json
x-api-key: client-key
anthropic-version: 2023-06-01
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/o/v1/chat/completions
X-Body: {"model":"gpt-x","max_tokens":1024,"messages":[{"role":"system","content":"You are Claude Code."},{"role":"user","content":"hi"}]}
X-Auth: Bearer sk-o
X-Key: []
X-Version: []
x-llm-dropped: cache_control, metadata
Content-Type: application/json
--- response_body chomp
{"id":"chatcmpl-mock","type":"message","role":"assistant","model":"claude-sonnet","content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}
--- access_log
usage: o claude-sonnet p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: Anthropic client, OpenAI provider, streaming: Anthropic's events, usage in message_delta
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens';
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/o/v1 key=sk-o;
llm_route claude-sonnet o:gpt-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    proxy_buffering off;
    add_header X-Body $request_body;
}
location /mock/o/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Body: {"model":"gpt-x","max_tokens":64,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}
--- response_body eval
::named_events(
    message_start => '{"type":"message_start","message":{"id":"chatcmpl-mock","type":"message","role":"assistant","content":[],"model":"claude-sonnet","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}}',
    content_block_start => '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
    content_block_delta => '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}',
    content_block_delta => '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}',
    content_block_stop => '{"type":"content_block_stop","index":0}',
    message_delta => '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":5,"cache_read_input_tokens":0,"output_tokens":2}}',
    message_stop => '{"type":"message_stop"}')
--- access_log
usage: o claude-sonnet p=5 c=2
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: n=2 has no Anthropic equivalent: 400 in OpenAI's format naming the field
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts "[$llm_attempts]" always;
}
location /mock/c/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","n":2,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
X-Attempts: []
--- response_body_like eval
qr/^\{"error":\{"message":"'n' other than 1 has no equivalent at Anthropic \(one answer per request\)","type":"invalid_request_error","param":"n","code":"unsupported_parameter"\}\}$/
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: a target that refuses is skipped when another one can take the request
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route gpt-4o c:claude-x o;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/ { llm_mock "content=Hi"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","n":2,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: o:200
X-Mock-Uri: /mock/o/v1/chat/completions
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: Anthropic's error answer reaches an OpenAI client in OpenAI's format, same status
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/c/v1/ { llm_mock status=400; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":{"message":"mock error 400","type":"invalid_request_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 8: OpenAI's error answer reaches an Anthropic client in Anthropic's format, same status
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route claude-sonnet o;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/o/v1/ { llm_mock status=404; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"mock error 404"}}
--- no_error_log
[alert]
[crit]



=== TEST 9: failover from Anthropic (529) to OpenAI, invisible to an OpenAI client
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route gpt-4o c:claude-x o;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Api $llm_api always;
}
location /mock/c/v1/ { llm_mock status=529; }
location /mock/o/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: c:529 o:200
X-Api: openai
X-Mock-Uri: /mock/o/v1/chat/completions
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}
--- no_error_log
[alert]
[crit]



=== TEST 10: failover from OpenAI (503) to Anthropic, streaming, invisible to an Anthropic client
--- http_config
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route claude-sonnet o c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Api $llm_api always;
}
location /mock/o/v1/ { llm_mock status=503; }
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/messages
{"model":"claude-sonnet","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: o:503 c:200
X-Api: anthropic
X-Mock-Uri: /mock/c/v1/messages
--- response_body_like eval
qr/^event: message_start\ndata: \{"type":"message_start","message":\{"id":"msg_mock".*"model":"claude-x".*event: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/s
--- no_error_log
[alert]
[crit]



=== TEST 11: OpenAI client, Anthropic provider fails over to Anthropic, streaming
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route gpt-4o o a:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/o/v1/ { llm_mock status=429; }
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: o:429 a:200
--- response_body_like eval
qr/^data: \{"id":"msg_mock","object":"chat\.completion\.chunk".*"content":"Hi ".*"content":"there".*"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n\z/s
--- no_error_log
[alert]
[crit]



=== TEST 12: embeddings: an Anthropic target cannot serve them and is skipped
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream o host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/o/v1 key=sk-o;
llm_route emb c o;
llm_route only-c c;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/ { llm_mock; }
--- pipelined_requests eval
['POST /v1/embeddings
{"model":"emb","input":"x"}', 'POST /v1/embeddings
{"model":"only-c","input":"x"}']
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 400]
--- response_body_like eval
['"object":"list"', '^\{"error":\{"message":"No provider of the route of model `only-c` serves embeddings","type":"invalid_request_error","param":null,"code":"unsupported_endpoint"\}\}$']
--- no_error_log
[alert]
[crit]



=== TEST 13: max_tokens_default, tools and dropped hints reach the Anthropic provider
--- http_config
llm_upstream c api=anthropic max_tokens_default=100 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
}
location /mock/c/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","seed":7,"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}}]}],"tools":[{"type":"function","function":{"name":"get","parameters":{"type":"object","properties":{}}}}],"tool_choice":"auto"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"model":"claude-x","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}}]}],"tools":[{"name":"get","input_schema":{"type":"object","properties":{}}}],"max_tokens":100,"tool_choice":{"type":"auto"}}
x-llm-dropped: seed
--- no_error_log
[error]
[alert]
[crit]



=== TEST 14: a stream cut by the Anthropic provider ends with an error event for the OpenAI client
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/c/v1/ { llm_mock "content=a b c d e" cut=3; }
--- request
POST /v1/chat/completions HTTP/1.0
{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- response_body_unlike
\[DONE\]
--- error_log
prematurely closed
--- no_error_log
[alert]
[crit]



=== TEST 15: max_tokens_default must be a positive number
--- http_config
llm_upstream c api=anthropic max_tokens_default=0 host=127.0.0.1 tls=off key=k;
llm_route m c;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "max_tokens_default=0" in llm_upstream "c" in \S+/nginx\.conf:25$}
