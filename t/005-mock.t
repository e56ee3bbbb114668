# The mock provider (mock/) on its own: each api= answers only what the
# real provider answers, with that provider's own error replies, so that
# no router test can pass on behaviour no real provider has.
#
# Every block talks to the mock directly; the locations are the file's
# default --- config (a block may still bring its own).

use Test::Nginx::Socket 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', <<'_EOC_');
location /auto/v1/      { llm_mock; }
location /openai/v1/    { llm_mock api=openai; }
location /anthropic/v1/ { llm_mock api=anthropic; }
location /ant401/v1/    { llm_mock api=anthropic status=401; }
location /ant529/v1/    { llm_mock api=anthropic status=529 retry_after=3; }
location /oai429/v1/    { llm_mock api=openai status=429 retry_after=3; }
location /words/v1/     { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
_EOC_
    }

    if (!defined $block->no_error_log) {
        $block->set_value('no_error_log', "[error]\n[alert]\n[crit]\n");
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: api=openai: /messages is not an OpenAI endpoint, 404 as OpenAI says it
--- request
POST /openai/v1/messages
{"model":"m","max_tokens":10,"messages":[]}
--- error_code: 404
--- response_headers
Content-Type: application/json
X-Mock-Uri: /openai/v1/messages
--- response_body chomp
{"error":{"message":"Invalid URL (POST /openai/v1/messages)","type":"invalid_request_error","param":null,"code":null}}



=== TEST 2: api=openai: an unknown path, arguments left out of the message
--- request
POST /openai/v1/chat/complete?x=1
{"model":"m"}
--- error_code: 404
--- response_body chomp
{"error":{"message":"Invalid URL (POST /openai/v1/chat/complete)","type":"invalid_request_error","param":null,"code":null}}



=== TEST 3: api=anthropic: /chat/completions is not an Anthropic endpoint
--- request
POST /anthropic/v1/chat/completions
{"model":"m","messages":[]}
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}



=== TEST 4: api=anthropic: nor /completions
--- request
POST /anthropic/v1/completions
{"model":"m","prompt":"x"}
--- error_code: 404
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}



=== TEST 5: api=anthropic: nor /embeddings
--- request
POST /anthropic/v1/embeddings
{"model":"m","input":"x"}
--- error_code: 404
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}



=== TEST 6: api=anthropic: nor /responses
--- request
POST /anthropic/v1/responses
{"model":"m","input":"x"}
--- error_code: 404
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}



=== TEST 7: api=anthropic: /messages answers a Message
--- request
POST /anthropic/v1/messages
{"model":"claude-x","max_tokens":10,"messages":[{"role":"user","content":"hello there"}]}
--- error_code: 200
--- response_body chomp
{"id":"msg_mock","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hello from the mock provider"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":22,"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}



=== TEST 8: api=openai: /chat/completions answers a chat completion
--- request
POST /openai/v1/chat/completions
{"model":"gpt-x","messages":[]}
--- error_code: 200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-x","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock provider"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}



=== TEST 9: api=auto: a path of neither API gets OpenAI's 404
--- request
POST /auto/v1/models/x
{}
--- error_code: 404
--- response_body chomp
{"error":{"message":"Invalid URL (POST /auto/v1/models/x)","type":"invalid_request_error","param":null,"code":null}}



=== TEST 10: api=auto: /messages is Anthropic's
--- request
POST /auto/v1/messages
{"model":"m"}
--- error_code: 200
--- response_body chomp
{"id":"msg_mock","type":"message","role":"assistant","model":"m","content":[{"type":"text","text":"Hello from the mock provider"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}



=== TEST 11: Anthropic status errors carry Anthropic's error type (401)
--- request
POST /ant401/v1/messages
{"model":"m"}
--- error_code: 401
--- response_body chomp
{"type":"error","error":{"type":"authentication_error","message":"mock error 401"}}



=== TEST 12: Anthropic 529 Overloaded with Retry-After
--- request
POST /ant529/v1/messages
{"model":"m"}
--- error_code: 529
--- raw_response_headers_like: ^HTTP/1.1 529 Overloaded\r\n
--- response_headers
Retry-After: 3
--- response_body chomp
{"type":"error","error":{"type":"overloaded_error","message":"mock error 529"}}



=== TEST 13: an unknown path gets no Retry-After, even with status= set
--- request
POST /ant529/v1/chat/completions
{"model":"m"}
--- error_code: 404
--- response_headers
!Retry-After
--- response_body chomp
{"type":"error","error":{"type":"not_found_error","message":"Not Found"}}



=== TEST 14: OpenAI 429 with Retry-After
--- request
POST /oai429/v1/chat/completions
{"model":"m"}
--- error_code: 429
--- response_headers
Retry-After: 3
--- response_body chomp
{"error":{"message":"mock error 429","type":"server_error","param":null,"code":null}}



=== TEST 15: one stream generator: Anthropic's event template
--- request
POST /words/v1/messages
{"model":"m","stream":true}
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
--- response_body eval
"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_mock\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0}}}\n\n"
. "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
. "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \"}}\n\n"
. "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"there\"}}\n\n"
. "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
. "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
. "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"



=== TEST 16: one stream generator: OpenAI's chat template with include_usage
--- request
POST /words/v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":true}}
--- error_code: 200
--- response_body eval
"data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi \"},\"finish_reason\":null}],\"usage\":null}\n\n"
. "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"there\"},\"finish_reason\":null}],\"usage\":null}\n\n"
. "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n"
. "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n"
. "data: [DONE]\n\n"



=== TEST 17: one stream generator: the Responses template
--- request
POST /words/v1/responses
{"model":"m","stream":true}
--- error_code: 200
--- response_body eval
"event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_mock\",\"object\":\"response\",\"created_at\":1700000000,\"model\":\"m\",\"status\":\"in_progress\",\"output\":[]}}\n\n"
. "event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_mock\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}\n\n"
. "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\",\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n"
. "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi \"}\n\n"
. "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,\"delta\":\"there\"}\n\n"
. "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\",\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,\"text\":\"Hi there\"}\n\n"
. "event: response.content_part.done\ndata: {\"type\":\"response.content_part.done\",\"item_id\":\"msg_mock\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"Hi there\"}}\n\n"
. "event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_mock\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi there\"}]}}\n\n"
. "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_mock\",\"object\":\"response\",\"created_at\":1700000000,\"model\":\"m\",\"status\":\"completed\",\"output\":[{\"type\":\"message\",\"id\":\"msg_mock\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi there\"}]}],\"usage\":{\"input_tokens\":5,\"output_tokens\":2,\"total_tokens\":7}}}\n\n"



=== TEST 18: embeddings ignore "stream"
--- request
POST /words/v1/embeddings
{"model":"m","stream":true}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp
{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"m","usage":{"prompt_tokens":5,"total_tokens":5}}



=== TEST 19: api= names an API of the table, or auto
--- config
location /x/ { llm_mock api=cohere; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "api=cohere" in "llm_mock" directive, it must be "auto" or the name of an API, such as "openai" or "anthropic" in \S+/nginx\.conf:\d+$}
--- no_error_log
[alert]
