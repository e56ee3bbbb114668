# Error responses: every status the gateway answers by itself, with the
# exact JSON body in the OpenAI format and, on /v1/messages, in the
# Anthropic format, always as application/json.

use Test::Nginx::Socket 'no_plan';

no_shuffle();
no_long_string();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
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

=== TEST 1: 400 empty body (OpenAI)
--- request
POST /v1/chat/completions
--- more_headers
Content-Type: application/json
Content-Length: 0
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is empty; a JSON object is expected","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 2: 400 empty body (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
--- more_headers
Content-Type: application/json
Content-Length: 0
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The request body is empty; a JSON object is expected"}}
--- no_error_log
[alert]
[crit]



=== TEST 3: 400 malformed JSON (OpenAI), offset of the first bad byte
--- request
POST /v1/chat/completions
{"model":"gpt-4o",}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 18)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 4: 400 malformed JSON (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The request body is not valid JSON (malformed JSON at byte 46)"}}
--- no_error_log
[alert]
[crit]



=== TEST 5: 400 trailing garbage after the object
--- request
POST /v1/chat/completions
{"model":"gpt-4o"} x
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 19)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 6: 400 two top-level values
--- request
POST /v1/chat/completions
{"model":"gpt-4o"}{"model":"gpt-4o"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 18)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 7: 400 non-object top level [] (OpenAI)
--- request
POST /v1/chat/completions
[]
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body must be a JSON object","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 8: 400 non-object top level, a string (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
"model"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The request body must be a JSON object"}}
--- no_error_log
[alert]
[crit]



=== TEST 9: 400 missing model (OpenAI)
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"You must provide a model parameter","type":"invalid_request_error","param":"model","code":"missing_required_parameter"}}
--- no_error_log
[alert]
[crit]



=== TEST 10: 400 missing model (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"max_tokens":10,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"You must provide a model parameter"}}
--- no_error_log
[alert]
[crit]



=== TEST 11: 400 model nested in another object is still missing
--- request
POST /v1/chat/completions
{"metadata":{"model":"gpt-4o"},"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"You must provide a model parameter","type":"invalid_request_error","param":"model","code":"missing_required_parameter"}}
--- no_error_log
[alert]
[crit]



=== TEST 12: 400 model is a number (OpenAI)
--- request
POST /v1/chat/completions
{"model":4,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model must be a non-empty string","type":"invalid_request_error","param":"model","code":"invalid_type"}}
--- no_error_log
[alert]
[crit]



=== TEST 13: 400 model is null (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"model":null,"max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The model must be a non-empty string"}}
--- no_error_log
[alert]
[crit]



=== TEST 14: 400 model is an empty string
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_route default a;
--- request
POST /v1/chat/completions
{"model":"","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model must be a non-empty string","type":"invalid_request_error","param":"model","code":"invalid_type"}}
--- no_error_log
[alert]
[crit]



=== TEST 15: 400 duplicate model keys (OpenAI)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_route gpt-4o-mini a;
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[],"model":"gpt-4o-mini"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The \"model\" member appears more than once","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 16: 400 duplicate model keys, same value (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"model":"claude","model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The \"model\" member appears more than once"}}
--- no_error_log
[alert]
[crit]



=== TEST 17: 400 duplicate model key written with an escape "mod\u0065l"
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_route evil a;
--- request
POST /v1/chat/completions
{"model":"gpt-4o","mod\u0065l":"evil","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The \"model\" member appears more than once","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 18: 400 duplicate model key, the escaped one first
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_route evil a;
--- request
POST /v1/chat/completions
{"\u006dodel":"evil","messages":[],"model":"gpt-4o"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The \"model\" member appears more than once","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 19: 400 "\n" in the model name (OpenAI)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request
POST /v1/chat/completions
{"model":"gpt-4o\nX-Injected: 1","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model name contains control characters","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 20: 400 "\u0001" in the model name (OpenAI)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request
POST /v1/chat/completions
{"model":"gpt\u00014o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model name contains control characters","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 21: 400 control character in the model name (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request
POST /v1/messages
{"model":"claude\r\n","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The model name contains control characters"}}
--- no_error_log
[alert]
[crit]



=== TEST 22: 400 nesting deeper than 256 levels
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"gpt-4o","x":' . ('[' x 256) . (']' x 256) . '}'
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (JSON nested too deeply at byte 277)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 23: exactly 256 levels are accepted
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"gpt-4o","x":' . ('[' x 255) . (']' x 255) . '}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: application/json
X-Attempts: a:200
--- response_body_like: ^\{.*"model":"gpt-4o"
--- no_error_log
[alert]
[crit]
[error]



=== TEST 24: 404 unknown model (OpenAI)
--- request
POST /v1/chat/completions
{"model":"gpt-5","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model `gpt-5` does not exist or is not routed by this gateway","type":"invalid_request_error","param":"model","code":"model_not_found"}}
--- no_error_log
[alert]
[crit]



=== TEST 25: 404 unknown model (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"model":"claude-9","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"not_found_error","message":"The model `claude-9` does not exist or is not routed by this gateway"}}
--- no_error_log
[alert]
[crit]



=== TEST 26: 404 unknown model, the name is JSON-escaped in the message
--- request
POST /v1/chat/completions
{"model":"a\"b\\c","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model `a\"b\\c` does not exist or is not routed by this gateway","type":"invalid_request_error","param":"model","code":"model_not_found"}}
--- no_error_log
[alert]
[crit]



=== TEST 27: 404 unknown endpoint
--- request
POST /v1/chat/complete
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Unknown request URL: POST /v1/chat/complete","type":"invalid_request_error","param":null,"code":"unknown_url"}}
--- no_error_log
[alert]
[crit]



=== TEST 28: 404 unknown endpoint, GET of the location's root
--- request
GET /v1/
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Unknown request URL: GET /v1/","type":"invalid_request_error","param":null,"code":"unknown_url"}}
--- no_error_log
[alert]
[crit]



=== TEST 29: 404 GET models/{id} of a model that is not routed
--- request
GET /v1/models/gpt-5
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model `gpt-5` does not exist","type":"invalid_request_error","param":"model","code":"model_not_found"}}
--- no_error_log
[alert]
[crit]



=== TEST 30: 405 GET on chat/completions
--- request
GET /v1/chat/completions
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Method GET is not allowed on /v1/chat/completions","type":"invalid_request_error","param":null,"code":"method_not_allowed"}}
--- no_error_log
[alert]
[crit]



=== TEST 31: 405 GET on messages (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
GET /v1/messages
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"Method GET is not allowed on /v1/messages"}}
--- no_error_log
[alert]
[crit]



=== TEST 32: 405 POST on models
--- request
POST /v1/models
{"model":"gpt-4o"}
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Method POST is not allowed on /v1/models","type":"invalid_request_error","param":null,"code":"method_not_allowed"}}
--- no_error_log
[alert]
[crit]



=== TEST 33: 405 DELETE on models/{id}
--- request
DELETE /v1/models/gpt-4o
--- error_code: 405
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Method DELETE is not allowed on /v1/models/gpt-4o","type":"invalid_request_error","param":null,"code":"method_not_allowed"}}
--- no_error_log
[alert]
[crit]



=== TEST 34: HEAD on models: headers of the list, no body
--- request
HEAD /v1/models
--- error_code: 200
--- response_headers
Content-Type: application/json
Content-Length: 86
--- response_body
--- no_error_log
[alert]
[crit]
[error]



=== TEST 35: GET on models: the body HEAD announced
--- request
GET /v1/models
--- error_code: 200
--- response_headers
Content-Type: application/json
Content-Length: 86
--- response_body chomp
{"object":"list","data":[{"id":"gpt-4o","object":"model","created":0,"owned_by":"a"}]}
--- no_error_log
[alert]
[crit]
[error]



=== TEST 36: 413 body over client_max_body_size, with Content-Length (OpenAI)
--- config
location /v1/ {
    client_max_body_size 1k;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"gpt-4o","messages":[{"role":"user","content":"' . ('x' x 2048) . '"}]}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Request body too large","type":"invalid_request_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 37: 413 body over client_max_body_size, with Content-Length (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- config
location /v1/ {
    client_max_body_size 1k;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
"POST /v1/messages\n"
. '{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"' . ('x' x 2048) . '"}]}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"request_too_large","message":"Request body too large"}}
--- no_error_log
[alert]
[crit]



=== TEST 38: 413 body over client_max_body_size, chunked (OpenAI)
--- config
location /v1/ {
    client_max_body_size 1k;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- raw_request eval
my $body = '{"model":"gpt-4o","messages":[{"role":"user","content":"'
           . ('x' x 2048) . '"}]}';
my $chunks = '';
while (length $body) {
    my $piece = substr $body, 0, 700, '';
    $chunks .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
}
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . $chunks . "0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Request body too large","type":"invalid_request_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 39: 413 body over client_max_body_size, chunked (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- config
location /v1/ {
    client_max_body_size 1k;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- raw_request eval
my $body = '{"model":"claude","max_tokens":10,"messages":[{"role":"user","content":"'
           . ('x' x 2048) . '"}]}';
my $chunks = '';
while (length $body) {
    my $piece = substr $body, 0, 700, '';
    $chunks .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
}
"POST /v1/messages HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . $chunks . "0\r\n\r\n"
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"request_too_large","message":"Request body too large"}}
--- no_error_log
[alert]
[crit]



=== TEST 40: 415 text/plain (OpenAI)
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: text/plain
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Content-Type must be application/json","type":"invalid_request_error","param":null,"code":"unsupported_media_type"}}
--- no_error_log
[alert]
[crit]



=== TEST 41: 415 a type that only starts like application/json
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/jsonp
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Content-Type must be application/json","type":"invalid_request_error","param":null,"code":"unsupported_media_type"}}
--- no_error_log
[alert]
[crit]



=== TEST 42: 415 text/plain (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: text/plain
--- error_code: 415
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"Content-Type must be application/json"}}
--- no_error_log
[alert]
[crit]



=== TEST 43: 502 all providers failed (OpenAI): a 503 and a connect error
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=1 tls=off path=/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
X-Attempts: a:503 b:error
--- response_body
{"error":{"message":"All providers failed: a:503 b:error","type":"server_error","param":null,"code":null}}
--- error_log
no provider answered "gpt-4o": a:503 b:error
--- no_error_log
[alert]
[crit]



=== TEST 44: 502 all providers failed (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route claude a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock status=529; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"api_error","message":"All providers failed: a:500 b:529"}}
--- no_error_log
[alert]
[crit]



=== TEST 45: 502 when the provider refuses the key (401): its body is not passed on
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=401; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
X-Attempts: a:401
--- response_body
{"error":{"message":"The provider refused the request: a:401","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 46: 502 when the provider answers 403 (Anthropic), its body is not passed on
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock status=403; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"api_error","message":"The provider refused the request: a:403"}}
--- no_error_log
[alert]
[crit]



=== TEST 47: 504 every attempt timed out (OpenAI)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    proxy_read_timeout 300ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=2s; }
location /mock/b/v1/ { llm_mock delay=2s; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 504
--- response_headers
Content-Type: application/json
X-Attempts: a:timeout b:timeout
--- response_body
{"error":{"message":"All providers timed out: a:timeout b:timeout","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 48: 504 every attempt timed out (Anthropic)
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- config
location /v1/ {
    proxy_read_timeout 300ms;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock delay=2s; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 504
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"api_error","message":"All providers timed out: a:timeout"}}
--- no_error_log
[alert]
[crit]



=== TEST 49: a timeout and a failure together are a 502, not a 504
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    proxy_read_timeout 300ms;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock delay=2s; }
location /mock/b/v1/ { llm_mock status=503; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"All providers failed: a:timeout b:503","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 50: a provider's 400 is passed on as it is (OpenAI)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=400; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
X-Attempts: a:400
--- response_body chomp
{"error":{"message":"mock error 400","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]
[error]



=== TEST 51: a provider's 400 is passed on as it is (Anthropic, its own error type)
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock status=400; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body chomp
{"type":"error","error":{"type":"invalid_request_error","message":"mock error 400"}}
--- no_error_log
[alert]
[crit]
[error]



=== TEST 52: a 500 not in fail_on is passed on as it is
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a fail_on=error,timeout,503;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route gpt-4o a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=500; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 500
--- response_headers
Content-Type: application/json
X-Attempts: a:500
--- response_body chomp
{"error":{"message":"mock error 500","type":"server_error","param":null,"code":null}}
--- no_error_log
[alert]
[crit]



=== TEST 53: 400 empty chunked body
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
0\r
\r
"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is empty; a JSON object is expected","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 54: 400 whitespace-only body: malformed, offset at the end
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Content-Length: 3\r
\r
  \n"
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 3)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 55: 400 a leading UTF-8 BOM is malformed JSON
--- request eval
"POST /v1/chat/completions\n\xef\xbb\xbf{\"model\":\"gpt-4o\"}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 0)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 56: 400 invalid escape in a string
--- request
POST /v1/chat/completions
{"model":"gpt-4o","x":"a\qb"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 24)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 57: 400 lone high surrogate (Anthropic)
--- request
POST /v1/messages
{"model":"gpt-4o","x":"\ud83d"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The request body is not valid JSON (malformed JSON at byte 23)"}}
--- no_error_log
[alert]
[crit]



=== TEST 58: 400 raw control character inside a string
--- request eval
"POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"x\":\"a\tb\"}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 24)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- no_error_log
[alert]
[crit]



=== TEST 59: 400 duplicate "stream" key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"stream":false}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"A member appears more than once (duplicate key at byte 32)","type":"invalid_request_error","param":null,"code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 60: 400 duplicate include_usage key, one of them escaped
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream_options":{"include_usage":true,"include_\u0075sage":false},"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"A member appears more than once (duplicate key at byte 57)","type":"invalid_request_error","param":null,"code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 61: the JSON error keeps the status for a query string and extra headers
--- request
POST /v1/chat/completions?api-version=1
{"model":"gpt-5"}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model `gpt-5` does not exist or is not routed by this gateway","type":"invalid_request_error","param":"model","code":"model_not_found"}}
--- no_error_log
[alert]
[crit]



=== TEST 62: errors with an unread body keep the connection usable (keepalive)
--- pipelined_requests eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"messages\":[]}",
 "POST /v1/models\n{\"model\":\"gpt-4o\",\"messages\":[]}",
 "GET /v1/models"]
--- more_headers
Content-Type: text/plain
--- error_code eval
[415, 405, 200]
--- response_body eval
["{\"error\":{\"message\":\"Content-Type must be application/json\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"unsupported_media_type\"}}\n",
"{\"error\":{\"message\":\"Method POST is not allowed on /v1/models\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"method_not_allowed\"}}\n",
'{"object":"list","data":[{"id":"gpt-4o","object":"model","created":0,"owned_by":"a"}]}']
--- no_error_log
[alert]
[crit]



=== TEST 64: 400 over HTTP/2 (Anthropic)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ { llm_mock; }
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
--- http2
--- request
POST /v1/messages
{"model":"claude","model":"claude","max_tokens":10,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"invalid_request_error","message":"The \"model\" member appears more than once"}}
--- no_error_log
[alert]
[crit]



=== TEST 65: 400 malformed JSON far into a body buffered to a temp file: the offset counts from the start
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
client_body_buffer_size 16k;
--- request eval
"POST /v1/chat/completions\n{\"model\":\"gpt-4o\",\"x\":\"" . ("a" x 1000000) . "\",}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The request body is not valid JSON (malformed JSON at byte 1000025)","type":"invalid_request_error","param":null,"code":"invalid_json"}}
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[alert]
[crit]



=== TEST 66: 404 for a long UTF-8 model name: the message stays valid UTF-8 and complete
# 120 x "é" (240 bytes): the message quotes at most 200 bytes; cut at a
# fixed byte count it would split a character and make the body invalid
# UTF-8, i.e. invalid JSON
--- request eval
"POST /v1/chat/completions\n{\"model\":\"" . ("\xc3\xa9" x 120) . "\"}"
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/\A\{"error":\{"message":"The model `(?:\xc3\xa9)+(?:\.\.\.|\xe2\x80\xa6)?` does not exist or is not routed by this gateway","type":"invalid_request_error","param":"model","code":"model_not_found"\}\}\n\z/
--- no_error_log
[alert]
[crit]



=== TEST 66b: a model name longer than 256 bytes is a 400
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request eval
"POST /v1/chat/completions\n{\"model\":\"" . ("m" x 257) . "\"}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body
{"error":{"message":"The model name is longer than 256 bytes","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 67: 404 for an unknown endpoint whose URI decodes to invalid UTF-8: the body is still valid UTF-8
--- request
POST /v1/chat%FF%C3
{"model":"gpt-4o"}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/\A(?=(?:[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2})*\z)\{"error":\{"message":"Unknown request URL: POST \/v1\/chat[^"]*","type":"invalid_request_error","param":null,"code":"unknown_url"\}\}\n\z/
--- no_error_log
[alert]
[crit]



=== TEST 68: 400 "\u007f" (DEL) in the model name
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request
POST /v1/chat/completions
{"model":"gpt\u007f","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model name contains control characters","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]



=== TEST 69: 400 "\u0000" in the model name
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- request
POST /v1/chat/completions
{"model":"gpt-4o\u0000","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"The model name contains control characters","type":"invalid_request_error","param":"model","code":"invalid_value"}}
--- no_error_log
[alert]
[crit]
