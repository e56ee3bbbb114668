# Streaming: SSE passes through event by event; for api=openai providers the
# router asks for usage and removes the usage-only event again unless the
# client asked for it; a stream cut by the provider reaches the client cut
# (never a clean end); failover still happens before the first byte.
#
# The mock streams its content word by word: "Hi there" gives the pieces
# "Hi " and "there".  With stream_options.include_usage (which the router
# adds for api=openai providers) every OpenAI chunk carries "usage":null and
# a usage-only chunk comes before [DONE], as OpenAI does.
#
# A cut chunked response makes Test::Nginx fail with "no last chunk found"
# (no response object), so cut streams are read with HTTP/1.0 (no chunked
# framing: the body is what arrived before the connection closed), and the
# chunked HTTP/1.1 case is checked through an nginx proxy location that acts
# as an HTTP/1.1 client and logs the missing last chunk.

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
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 interval=50ms; }
_EOC_

# Test::Nginx restarts nginx only when "--- config" changes, and blocks here
# may differ in http_config alone: make every config unique.
add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

# expected stream bytes

sub data_events { join '', map { "data: $_\n\n" } @_ }

sub named_events {
    my @e = @_;
    my $s = '';
    while (my ($name, $data) = splice @e, 0, 2) {
        $s .= "event: $name\ndata: $data\n\n";
    }
    return $s;
}

my $chunk = '{"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"m","choices":[';
our $CHAT_HI    = $chunk . '{"index":0,"delta":{"content":"Hi "},"finish_reason":null}],"usage":null}';
our $CHAT_THERE = $chunk . '{"index":0,"delta":{"content":"there"},"finish_reason":null}],"usage":null}';
our $CHAT_STOP  = $chunk . '{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}';
our $CHAT_USAGE = $chunk . '],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}';

my $cmpl = '{"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":"m","choices":[';
our $CMPL_HI    = $cmpl . '{"text":"Hi ","index":0,"finish_reason":null}],"usage":null}';
our $CMPL_THERE = $cmpl . '{"text":"there","index":0,"finish_reason":null}],"usage":null}';
our $CMPL_STOP  = $cmpl . '{"text":"","index":0,"finish_reason":"stop"}],"usage":null}';
our $CMPL_USAGE = $cmpl . '],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}';

our @ANTHROPIC = (
    message_start => '{"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":5,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}',
    content_block_start => '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
    content_block_delta => '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}',
    content_block_delta => '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}',
    content_block_stop => '{"type":"content_block_stop","index":0}',
    message_delta => '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}',
    message_stop => '{"type":"message_stop"}',
);

run_tests();

__DATA__

=== TEST 1: OpenAI chat stream, client did not ask for usage: usage-only event removed
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Stream $llm_stream always;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
X-Attempts: a:200
X-Stream: 1
Transfer-Encoding: chunked
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: OpenAI chat stream, client asked for usage: usage-only event kept
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Attempts: a:200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, $::CHAT_USAGE, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: client's include_usage:false is turned on for the provider, and the event removed
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":false},"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: with 50ms between events: usage-only event removed
Every event is a separate read from the provider.
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: with 50ms between events: usage-only event kept when asked for
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, $::CHAT_USAGE, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: OpenAI completions stream: usage-only event removed
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/completions
{"model":"m","prompt":"say hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Mock-Uri: /mock/a/v1/completions
--- response_body eval
::data_events($::CMPL_HI, $::CMPL_THERE, $::CMPL_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: OpenAI completions stream with interval, usage asked for: kept
--- request
POST /v1/completions
{"model":"m","prompt":"say hi","stream":true,"stream_options":{"include_usage":true}}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CMPL_HI, $::CMPL_THERE, $::CMPL_STOP, $::CMPL_USAGE, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: Anthropic messages stream passes through, events in order
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Attempts: c:200
X-Mock-Uri: /mock/c/v1/messages
--- response_body eval
::named_events(@::ANTHROPIC)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: Anthropic messages stream with 50ms between events
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 interval=50ms; }
--- request
POST /v1/messages
{"model":"claude","max_tokens":10,"stream":true,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::named_events(@::ANTHROPIC)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: a stream cut by the provider reaches the client cut (HTTP/1.0: no [DONE], then close)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=2; }
location /mock/b/v1/ { llm_mock "content=from b"; }
--- request
POST /v1/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Attempts: a:200
!Transfer-Encoding
!Content-Length
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE)
--- error_log
upstream prematurely closed connection
--- no_error_log
provider "b"
[alert]
[crit]



=== TEST 11: a stream cut right after the usage-only event: removing it does not make a clean end
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=4; }
--- request
POST /v1/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP)
--- error_log
upstream prematurely closed connection
--- no_error_log
[alert]
[crit]



=== TEST 12: a cut Anthropic stream reaches the client cut
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=3 interval=20ms; }
--- request
POST /v1/messages HTTP/1.0
{"model":"claude","max_tokens":10,"stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::named_events(@::ANTHROPIC[0 .. 5])
--- error_log
upstream prematurely closed connection
--- no_error_log
[alert]
[crit]



=== TEST 13: a cut stream, HTTP/1.1: the chunked response has no last chunk
/outer/ is an HTTP/1.1 client of the gateway (nginx's proxy module reads the
chunked body): it finds the gateway's response cut and logs it.  The test
client talks HTTP/1.0 to /outer/ and gets what came through.
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /outer/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=2; }
--- request
POST /outer/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE)
--- error_log eval
qr{upstream prematurely closed connection while (?:sending to client|reading upstream), client: [^,]+, server: [^,]+, request: "POST /outer/chat/completions HTTP/1\.0"}
--- no_error_log
[alert]
[crit]



=== TEST 14: the same through /outer/ without a cut: a clean chunked end
The control for TEST 13.
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /outer/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /outer/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
prematurely
[error]
[alert]
[crit]



=== TEST 15: a cut stream over HTTP/1.1 directly: the connection closes without the last chunk
Test::Nginx reports a chunked body without its last chunk as a failure of
its own ("no last chunk found"), so the response is not parsed here; the
error log shows the gateway gave up on the response.
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- ignore_response
--- error_log eval
qr{upstream prematurely closed connection while (?:sending to client|reading upstream), client: [^,]+, server: [^,]+, request: "POST /v1/chat/completions HTTP/1\.1"}
--- no_error_log
[alert]
[crit]



=== TEST 16: streaming failover before the first byte: 503, then the next provider streams
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 interval=20ms; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
X-Attempts: a:503 b:200
X-Provider: b
X-Mock-Uri: /mock/b/v1/chat/completions
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 17: streaming failover before the first byte: a timeout, then the next provider streams
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    proxy_read_timeout 500ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=1s; }
location /mock/b/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:timeout b:200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, $::CHAT_USAGE, '[DONE]')
--- no_error_log
[alert]
[crit]



=== TEST 18: streaming failover from Anthropic (529) to OpenAI: the usage event is handled for the new target
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m c a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/c/v1/ { llm_mock status=529; }
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: c:529 a:200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
[error]
[alert]
[crit]



=== TEST 19: a provider stream without framing (close-delimited) that is cut: the client sees it cut
/relay/a/v1/ stands for a provider that ends its stream by closing the
connection (no Content-Length, no chunked): only the missing final event
tells a cut from an end.  /outer/ is an HTTP/1.1 client of the gateway.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /outer/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
}
location /relay/a/v1/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/a/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
    chunked_transfer_encoding off;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=2; }
--- request
POST /outer/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE)
--- error_log eval
[
    'the event stream of provider "a" ended without its final event',
    qr{upstream prematurely closed connection while (?:sending to client|reading upstream), client: [^,]+, server: [^,]+, request: "POST /outer/chat/completions HTTP/1\.0"},
]
--- no_error_log
[alert]
[crit]



=== TEST 20: a provider stream without framing that ends with [DONE]: a clean end
The control for TEST 19.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /outer/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
}
location /relay/a/v1/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/a/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
    chunked_transfer_encoding off;
}
location /mock/a/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 interval=20ms; }
--- request
POST /outer/chat/completions HTTP/1.0
{"model":"m","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::data_events($::CHAT_HI, $::CHAT_THERE, $::CHAT_STOP, '[DONE]')
--- no_error_log
ended without its final event
prematurely
[error]
[alert]
[crit]



=== TEST 21: an Anthropic stream without framing that ends with message_stop: a clean end
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /outer/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
}
location /relay/c/v1/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/c/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
    chunked_transfer_encoding off;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2; }
--- request
POST /outer/messages HTTP/1.0
{"model":"claude","max_tokens":10,"stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::named_events(@::ANTHROPIC)
--- no_error_log
ended without its final event
prematurely
[error]
[alert]
[crit]



=== TEST 22: an Anthropic stream without framing, cut: the client sees it cut
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/relay/c/v1 key=sk-c;
llm_route claude c:claude-x;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /relay/c/v1/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mock/c/v1/;
    proxy_http_version 1.1;
    proxy_buffering off;
    chunked_transfer_encoding off;
}
location /mock/c/v1/ { llm_mock "content=Hi there" prompt_tokens=5 completion_tokens=2 cut=6; }
--- request
POST /v1/messages HTTP/1.0
{"model":"claude","max_tokens":10,"stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
::named_events(@::ANTHROPIC[0 .. 11])
--- error_log
the event stream of provider "c" ended without its final event
--- no_error_log
[alert]
[crit]
