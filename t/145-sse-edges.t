# Event streams at the edges of the SSE format: lines that end with CR
# alone or CRLF, a last event without its blank line, a value over several
# "data:" lines.  The client gets what plain nginx would relay (less the
# usage-only chunk the router asked for on its behalf) and usage is read
# in every case.
#
# The provider is nginx itself: "return 200 '...'" with the event stream
# as the body (nginx's configuration strings know \r and \n).  Usage is
# read from the access log line ("--- access_log").

use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $HttpConfig = <<'_EOC_';
llm_upstream p host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/prov/v1 key=sk-p;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/prov/c/v1 key=sk-c;
llm_route m p;
llm_route claude c;
log_format usage 'usage: p=$llm_prompt_tokens c=$llm_completion_tokens';
_EOC_

our $C1 = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}';
our $U = 'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}';
our $U2 = qq{data: {"id":"c1","choices":[],\ndata: "usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}};
our $D = 'data: [DONE]';

our $Stream = "POST /v1/chat/completions\n"
              . '{"model":"m","stream":true,"messages":[]}';
our $StreamUsage = "POST /v1/chat/completions\n"
    . '{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[]}';

# the provider's answer is the block's --- config, put in a location
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(http_config => $HttpConfig)
        unless defined $block->http_config;
    $block->set_value(config => "# " . $block->name . "\n" . <<'_EOC_' . $block->config);
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
_EOC_
    $block->set_value(no_error_log => "[alert]\n[crit]\n[error]\nno usage in the answer\n")
        unless defined $block->no_error_log;
});

run_tests();

__DATA__

=== TEST 1: CR line endings, usage not asked for: the usage chunk alone goes
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\r\rdata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\r\rdata: [DONE]\r\r';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\r\r$::D\r\r"
--- access_log
usage: p=7 c=5



=== TEST 2: CR line endings, usage asked for: the stream as it is
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\r\rdata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\r\rdata: [DONE]\r\r';
}
--- request eval
$::StreamUsage
--- error_code: 200
--- response_body eval
"$::C1\r\r$::U\r\r$::D\r\r"
--- access_log
usage: p=7 c=5



=== TEST 3: CRLF line endings
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\r\n\r\ndata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\r\n\r\ndata: [DONE]\r\n\r\n';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\r\n\r\n$::D\r\n\r\n"
--- access_log
usage: p=7 c=5



=== TEST 4: mixed line endings, one event's lines ended by CR, LF and CRLF
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\r\n\nid: 1\r: comment\ndata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\r\n\rdata: [DONE]\n\n';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\r\n\n$::D\n\n"
--- access_log
usage: p=7 c=5



=== TEST 5: the last event without its blank line is relayed
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\ndata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\n\ndata: [DONE]';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\n\n$::D"
--- access_log
usage: p=7 c=5



=== TEST 6: a last usage event without its blank line is read (and dropped)
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\ndata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\n';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\n\n"
--- access_log
usage: p=7 c=5



=== TEST 7: a last usage event without its blank line, usage asked for
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\ndata: {"id":"c1","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}';
}
--- request eval
$::StreamUsage
--- error_code: 200
--- response_body eval
"$::C1\n\n$::U"
--- access_log
usage: p=7 c=5



=== TEST 8: a usage event over two data lines: read, and dropped as one
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\ndata: {"id":"c1","choices":[],\ndata: "usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\n\ndata: [DONE]\n\n';
}
--- request eval
$::Stream
--- error_code: 200
--- response_body eval
"$::C1\n\n$::D\n\n"
--- access_log
usage: p=7 c=5



=== TEST 9: a usage event over two data lines, usage asked for: relayed
--- config
location /prov/v1/ {
    default_type text/event-stream;
    return 200 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\ndata: {"id":"c1","choices":[],\ndata: "usage":{"prompt_tokens":7,"completion_tokens":5,"total_tokens":12}}\n\ndata: [DONE]\n\n';
}
--- request eval
$::StreamUsage
--- error_code: 200
--- response_body eval
"$::C1\n\n$::U2\n\n$::D\n\n"
--- access_log
usage: p=7 c=5



=== TEST 10: Anthropic events with CR line endings
--- config
location /prov/c/v1/ {
    default_type text/event-stream;
    return 200 'event: message_start\rdata: {"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}\r\revent: message_delta\rdata: {"type":"message_delta","usage":{"output_tokens":4}}\r\revent: message_stop\rdata: {"type":"message_stop"}\r\r';
}
--- request
POST /v1/messages
{"model":"claude","stream":true,"max_tokens":10,"messages":[]}
--- error_code: 200
--- response_body eval
qq{event: message_start\rdata: {"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}\r\revent: message_delta\rdata: {"type":"message_delta","usage":{"output_tokens":4}}\r\revent: message_stop\rdata: {"type":"message_stop"}\r\r}
--- access_log
usage: p=9 c=4



=== TEST 11: Anthropic data over two lines and no blank line at the end
--- config
location /prov/c/v1/ {
    default_type text/event-stream;
    return 200 'event: message_start\ndata: {"type":"message_start",\ndata: "message":{"usage":{"input_tokens":9,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":4}}';
}
--- request
POST /v1/messages
{"model":"claude","stream":true,"max_tokens":10,"messages":[]}
--- error_code: 200
--- response_body eval
qq{event: message_start\ndata: {"type":"message_start",\ndata: "message":{"usage":{"input_tokens":9,"output_tokens":1}}}\n\nevent: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":4}}}
--- access_log
usage: p=9 c=4
