# Body fidelity: the provider gets the client's body byte for byte, except
# for the model value (when the target names a model) and, for streams to
# api=openai providers, stream_options.include_usage.  The mock runs with
# echo=body, so the response body is exactly what the provider received.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=body; }
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

=== TEST 1: numbers reach the provider as written (int64, -0, 1e400, fractions)
--- request
POST /v1/chat/completions
{"model":"m","seed":9007199254740993,"big":18446744073709551617,"neg":-9223372036854775809,"z":-0,"inf":1e400,"tiny":-1E-400,"f":1.50,"g":0.1e+02,"max_tokens":100,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","seed":9007199254740993,"big":18446744073709551617,"neg":-9223372036854775809,"z":-0,"inf":1e400,"tiny":-1E-400,"f":1.50,"g":0.1e+02,"max_tokens":100,"messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: numbers kept while the model is rewritten
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"seed":9007199254740993,"model":"m","z":-0,"inf":1e400,"temperature":0.70}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"seed":9007199254740993,"model":"real-model","z":-0,"inf":1e400,"temperature":0.70}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: \u escapes, surrogate pairs and short escapes are not decoded
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"\ud83d\ude00 \u00E9\u00e9 \u0000 \"q\" \\ \/ \b\f\n\r\t \u2028"}],"\u0073tream":false}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"real-model","messages":[{"role":"user","content":"\ud83d\ude00 \u00E9\u00e9 \u0000 \"q\" \\ \/ \b\f\n\r\t \u2028"}],"\u0073tream":false}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: raw UTF-8 bytes (2, 3 and 4 byte sequences) are passed untouched
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request eval
"POST /v1/chat/completions\n"
. "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"}],\"\xe2\x82\xac\":1}"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
"{\"model\":\"real-model\",\"messages\":[{\"role\":\"user\",\"content\":\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\"}],\"\xe2\x82\xac\":1}"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: a raw UTF-8 model name is routed and, without a target model, sent unchanged
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route "café" a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request eval
"POST /v1/chat/completions\n"
. "{\"model\":\"caf\xc3\xa9\",\"messages\":[]}"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Provider: a
--- response_body eval
"{\"model\":\"caf\xc3\xa9\",\"messages\":[]}"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: whitespace and newlines inside the body are kept
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request eval
"POST /v1/chat/completions\n"
. "{\n  \"model\"  :\t\"m\" ,\r\n  \"messages\" : [ { \"role\" : \"user\" ,\n\t\"content\":\"a  b\\n\" } ] ,\n\n  \"n\" : 1\n}"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
"{\n  \"model\"  :\t\"real-model\" ,\r\n  \"messages\" : [ { \"role\" : \"user\" ,\n\t\"content\":\"a  b\\n\" } ] ,\n\n  \"n\" : 1\n}"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: leading and trailing whitespace around the object is kept
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- raw_request eval
my $body = " \r\n\t{\"model\":\"m\"} \n\n";
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Content-Length: " . length($body) . "\r
\r
" . $body
--- error_code: 200
--- response_body eval
" \r\n\t{\"model\":\"real-model\"} \n\n"
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: key order is kept, model in the middle, rewritten
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"z":1,"y":{"model":"inner","b":2,"a":1},"model":"m","b":[3,2,1],"a":null,"model_x":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"z":1,"y":{"model":"inner","b":2,"a":1},"model":"real-model","b":[3,2,1],"a":null,"model_x":"m"}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: model last in the body, rewritten
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"\"model\":\"m\""}],"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"messages":[{"role":"user","content":"\"model\":\"m\""}],"model":"real-model"}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: without a target model the client's model bytes are sent unchanged
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"b":1, "model" : "gpt-4o" ,"a":2}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Upstream-Model: gpt-4o
--- response_body chomp
{"b":1, "model" : "gpt-4o" ,"a":2}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 11: with a target model only the value is replaced, spacing around it kept
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"b":1, "model" : "gpt-4o" ,"a":2}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Upstream-Model: gpt-4o-2024-08-06
--- response_body chomp
{"b":1, "model" : "gpt-4o-2024-08-06" ,"a":2}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 12: an escaped model name "gpt\u002d4o" is routed; the target model replaces it
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Model $llm_model always;
    add_header X-Upstream-Model $llm_upstream_model always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"gpt\u002d4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Model: gpt-4o
X-Upstream-Model: gpt-4o-2024-08-06
--- response_body chomp
{"model":"gpt-4o-2024-08-06","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 13: an escaped model name without a target model: the original escaped bytes go on
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"gpt\u002d4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Provider: a
--- response_body chomp
{"model":"gpt\u002d4o","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 14: a model name escaped as UTF-8 ("caf\u00e9") matches a raw UTF-8 route
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route "café" a:real-model;
--- request
POST /v1/chat/completions
{"model":"caf\u00e9","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"real-model","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: stream to api=openai, no stream_options: one is added after the '{'
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Stream $llm_stream always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Stream: 1
--- response_body chomp
{"stream_options":{"include_usage":true},"model":"m","stream":true,"messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: stream, no stream_options, with a target model: both edits
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{ "model":"m","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"stream_options":{"include_usage":true}, "model":"real-model","stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 17: stream_options {} gets include_usage
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{},"n":1}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"real-model","stream":true,"stream_options":{"include_usage":true},"n":1}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 18: stream_options { } with blanks gets include_usage and no comma
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{ }}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"stream_options":{"include_usage":true }}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 19: stream_options {"x":1} gets include_usage first
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"x":1}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"stream_options":{"include_usage":true,"x":1}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 20: stream_options before the model, with a target model: both edits in order
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"stream_options":{"x":1},"stream":true,"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"stream_options":{"include_usage":true,"x":1},"stream":true,"model":"real-model"}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 21: include_usage false becomes true, the rest of stream_options kept
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"model":"m","stream_options":{"x":1, "include_usage" : false ,"y":2},"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"real-model","stream_options":{"x":1, "include_usage" : true ,"y":2},"stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 22: include_usage null becomes true
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":null}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"stream_options":{"include_usage":true}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 23: stream_options null is replaced by an object
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":null,"n":1}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"stream_options":{"include_usage":true},"n":1}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 24: stream_options of another type (array) is replaced by an object
--- request
POST /v1/chat/completions
{"model":"m","stream_options":[1,{"include_usage":false}],"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream_options":{"include_usage":true},"stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 25: include_usage true from the client: body unchanged
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":true}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"stream_options":{"include_usage":true}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 26: include_usage true nested deeper is not the client's choice
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"metadata":{"stream_options":{"include_usage":true}},"stream_options":{"o":{"include_usage":true}}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":true,"metadata":{"stream_options":{"include_usage":true}},"stream_options":{"include_usage":true,"o":{"include_usage":true}}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 27: completions endpoint, stream: stream_options added too
--- request
POST /v1/completions
{"model":"m","prompt":"hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/a/v1/completions
--- response_body chomp
{"stream_options":{"include_usage":true},"model":"m","prompt":"hi","stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 28: no insertion for a non-stream request (stream false, stream_options present)
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Stream "[$llm_stream]" always;
}
location /mock/a/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"model":"m","stream":false,"stream_options":{"include_usage":false}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Stream: []
--- response_body chomp
{"model":"m","stream":false,"stream_options":{"include_usage":false}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 29: no insertion when stream is not the literal true
--- request
POST /v1/chat/completions
{"model":"m","stream":"true","x":{"stream":true}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"model":"m","stream":"true","x":{"stream":true}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 30: no insertion for an api=anthropic provider
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route claude a:claude-real;
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/a/v1/messages
--- response_body chomp
{"model":"claude-real","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 31: no insertion for an api=anthropic provider on chat/completions either
chat/completions is translated to Anthropic's messages (see
t/200-xlate-anthropic.t): stream_options is not sent there.
--- http_config
llm_upstream a api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /relay/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/;
    add_header X-Body $request_body;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":false}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Body: {"model":"m","stream":true,"max_tokens":4096}
X-Mock-Uri: /mock/a/v1/messages
--- no_error_log
[error]
[alert]
[crit]



=== TEST 32: no insertion for embeddings, even with stream true
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route emb a:text-embedding-3-small;
--- request
POST /v1/embeddings
{"model":"emb","input":["a","b"],"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/a/v1/embeddings
--- response_body chomp
{"model":"text-embedding-3-small","input":["a","b"],"stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 33: no insertion for the responses endpoint (it has no stream_options)
--- http_config
llm_upstream a responses=on host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
--- request
POST /v1/responses
{"model":"m","input":"hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Mock-Uri: /mock/a/v1/responses
--- response_body chomp
{"model":"m","input":"hi","stream":true}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 34: chunked request body in several chunks
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
5\r
{\"mod\r
6\r
el\":\"g\r
1;ext=1\r
p\r
a\r
t-4o\",\"n\":\r
3\r
 1}\r
0\r
\r
"
--- error_code: 200
--- response_body chomp
{"model":"gpt-4o-2024-08-06","n": 1}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 35: chunked request body sent in separate packets
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
--- raw_request eval
["POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
",
"9\r
{\"model\":\r
",
"9\r
\"gpt-4o\",\r
f\r
\"stream\":false}\r
",
"0\r
\r
"]
--- error_code: 200
--- response_body chomp
{"model":"gpt-4o","stream":false}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 36: a 2 MB body through a temp file reaches the provider whole
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
client_body_buffer_size 16k;
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"m","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . ']}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
'{"model":"real-model","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . ']}'
--- error_log eval
qr/a client request body is buffered to a temporary file [^,]+, client: [^,]+, server: [^,]*, request: "POST \/v1\/chat\/completions HTTP/
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 10



=== TEST 37: a 2 MB chunked body through a temp file, stream_options added
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
client_body_buffer_size 16k;
--- raw_request eval
my $body = '{"model":"m","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'y' x 100 } 1 .. 17000) . '],"stream":true}';
my $chunks = '';
while (length $body) {
    my $piece = substr $body, 0, 65000, '';
    $chunks .= sprintf("%x\r\n", length $piece) . $piece . "\r\n";
}
"POST /v1/chat/completions HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . $chunks . "0\r\n\r\n"
--- error_code: 200
--- response_body eval
'{"stream_options":{"include_usage":true},"model":"m","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'y' x 100 } 1 .. 17000) . '],"stream":true}'
--- error_log eval
qr/a client request body is buffered to a temporary file [^,]+, client: [^,]+, server: [^,]*, request: "POST \/v1\/chat\/completions HTTP/
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 10



=== TEST 38: HTTP/2 request reaches the provider
# the test server listens with "http2" (prior knowledge only), so the
# mock provider gets its own HTTP/1.1 server
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    client_max_body_size 30m;
    location /mock/a/v1/ { llm_mock echo=body; }
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Provider $llm_provider always;
    add_header X-Protocol $server_protocol always;
}
--- http2
--- request
POST /v1/chat/completions
{"model":"gpt-4o","n":9007199254740993,"messages":[{"role":"user","content":"\ud83d\ude00"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Provider: a
X-Protocol: HTTP/2.0
X-Mock-Uri: /mock/a/v1/chat/completions
--- response_body chomp
{"model":"gpt-4o-2024-08-06","n":9007199254740993,"messages":[{"role":"user","content":"\ud83d\ude00"}]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 39: Content-Type with a charset is accepted
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json; charset=utf-8
--- error_code: 200
--- response_body chomp
{"model":"m","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 40: Content-Type in another case is accepted
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: Application/JSON;charset=UTF-8
--- error_code: 200
--- response_body chomp
{"model":"m","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 41: no Content-Type is accepted
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:real-model;
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- error_code: 200
--- response_body chomp
{"model":"real-model","messages":[]}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 42: the body is sent again, unchanged, to the backup after a failure
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request
POST /v1/chat/completions
{"n":-0,"model" : "m","stream":true,"x":"\u00e9"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- response_body chomp
{"stream_options":{"include_usage":true},"n":-0,"model" : "m","stream":true,"x":"\u00e9"}
--- no_error_log
[alert]
[crit]



=== TEST 43: a 2 MB temp-file body is sent again, whole, to the backup
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a:model-a b:model-b;
client_body_buffer_size 16k;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock echo=body; }
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"m","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . '],"stream":true}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- response_body eval
'{"stream_options":{"include_usage":true},"model":"model-b","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . '],"stream":true}'
--- error_log eval
qr/a client request body is buffered to a temporary file [^,]+, client: [^,]+, server: [^,]*, request: "POST \/v1\/chat\/completions HTTP/
--- no_error_log
[alert]
[crit]
--- timeout: 10



=== TEST 44: a 2 MB body over HTTP/2 through a temp file
# the mock provider gets its own HTTP/1.1 server (see TEST 38)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-a;
llm_route m a:model-a;
client_body_buffer_size 16k;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    client_max_body_size 30m;
    location /mock/a/v1/ { llm_mock echo=body; }
}
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n"
. '{"model":"m","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . ']}'
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
'{"model":"model-a","messages":[' . CORE::join(',', map { sprintf '{"role":"user","content":"%07d %s"}', $_, 'x' x 100 } 1 .. 17000) . ']}'
--- error_log eval
qr/a client request body is buffered to a temporary file [^,]+, client: [^,]+, server: [^,]*, request: "POST \/v1\/chat\/completions HTTP/
--- no_error_log
[error]
[alert]
[crit]
--- timeout: 10
