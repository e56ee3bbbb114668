# Memory of a translated stream (an OpenAI chat client, an Anthropic
# provider): at its end the router logs (debug) what the stream held
# beyond nginx's own buffers: its state, the carry of one partial event,
# the staging buffer of one translated read and the recycled output
# buffers.  It must stay under 16 KB however long the stream is: a short
# stream and one of 1,900 events (~220 KB, read 4 KB at a time) give the
# same bound.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# one event a word; a directive's parameter is at most 4 KB
our $Words = join ' ', 'first', ('a') x 1900, 'last';

our $HttpConfig = <<'CONF';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route gpt-4o c:claude-x;
CONF

# under 16,384 bytes
our $Bound = qr/llm xlate stream memory: (?:\d{1,4}|1[0-5]\d{3}|16[0-2]\d\d|163[0-7]\d|1638[0-3]) bytes \(state \d+, carry \d+, staging \d+, output buffers \d+\)/;

run_tests();

__DATA__

=== TEST 1: a short translated stream: its memory, logged at its end, is under 16 KB
--- http_config eval: $::HttpConfig
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock "content=one two three"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like eval
qr/^data: \{"id":"msg_mock","object":"chat\.completion\.chunk".*"delta":\{"content":"one "\}.*"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n$/s
--- error_log eval
$::Bound
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: a stream of 1,900 events holds as much as a short one: under 16 KB
--- http_config eval: $::HttpConfig
--- config eval
"location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock \"content=$::Words\"; }"
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like eval
qr/^data: \{"id":"msg_mock".*"delta":\{"content":"first "\}.*"delta":\{"content":"last"\}.*"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n$/s
--- error_log eval
$::Bound
--- no_error_log
[error]
[alert]
[crit]
