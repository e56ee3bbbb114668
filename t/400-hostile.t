# Hostile clients: raw requests over sockets (HTTP/1.1) and curl (HTTP/2)
# that a gateway on the internet meets: malformed and oversized bodies, bad
# chunking, Content-Length lies, slow bodies, pipelining, header tricks,
# path tricks, invalid UTF-8, every JSON type in every member the router
# reads, and client credentials in every form. Each gets the documented
# status (a JSON error in the client API's format wherever a location
# handles the request; nginx's own page for what nginx refuses while
# reading the request head), nothing reaches a provider that should not
# (the provider locations log every request they get, see rewrite_log),
# no client credential reaches a provider, and no [alert] or [crit].
#
# The provider "e" echoes the headers it got (llm_mock echo=headers).

use Test::Nginx::Socket 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", <<'_EOC_');
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e responses=on host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route claude a;
llm_route echo-headers e;
llm_budget key=$remote_addr tokens=1000000000/d requests=100000/d;
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
location /v1/ {
    client_max_body_size 16k;
    client_body_timeout 1s;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ {
    rewrite_log on;
    rewrite "^(/mock/.*)$" $1 break;
    llm_mock;
}
location /mock/e/v1/ {
    rewrite_log on;
    rewrite "^(/mock/.*)$" $1 break;
    llm_mock echo=headers;
}
_EOC_
    }
});

no_shuffle();
no_long_string();
run_tests();

__DATA__
=== TEST 1: 400 invalid JSON (OpenAI): an unclosed object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r"
. "\n{"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 2: 400 invalid JSON (OpenAI): a lone closing brace
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r"
. "\n}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 3: 400 invalid JSON (OpenAI): a missing closing brace
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r"
. "\n{\"model\":\"gpt-4o\""
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 4: 400 invalid JSON (OpenAI): a trailing comma in an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r"
. "\n{\"model\":\"gpt-4o\",}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 5: 400 invalid JSON (OpenAI): an extra closing brace
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r"
. "\n{\"model\":\"gpt-4o\"}}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 6: 400 invalid JSON (OpenAI): trailing garbage
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r"
. "\n{\"model\":\"gpt-4o\"} x"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 7: 400 invalid JSON (OpenAI): two objects
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r"
. "\n{\"model\":\"gpt-4o\"}{}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 8: 400 invalid JSON (OpenAI): a missing colon
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r"
. "\n{\"model\" \"gpt-4o\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 9: 400 invalid JSON (OpenAI): an unquoted key
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r"
. "\n{model:\"gpt-4o\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 10: 400 invalid JSON (OpenAI): single quotes
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r"
. "\n{'model':'gpt-4o'}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 11: 400 invalid JSON (OpenAI): a number with a leading zero
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":01}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 12: 400 invalid JSON (OpenAI): a number without an integer part
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":.5}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 13: 400 invalid JSON (OpenAI): a number without fraction digits
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":1.}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 14: 400 invalid JSON (OpenAI): a number with a plus sign
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":+1}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 15: 400 invalid JSON (OpenAI): a lone minus
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":-}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 16: 400 invalid JSON (OpenAI): an exponent without digits
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":1e}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 17: 400 invalid JSON (OpenAI): a hexadecimal number
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":0x10}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 18: 400 invalid JSON (OpenAI): NaN
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":NaN}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 19: 400 invalid JSON (OpenAI): Infinity
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":Infinity}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 20: 400 invalid JSON (OpenAI): a truncated literal true
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":tru}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 21: 400 invalid JSON (OpenAI): a truncated literal null
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 26\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":nul}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 22: 400 invalid JSON (OpenAI): a capitalised literal
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":True}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 23: 400 invalid JSON (OpenAI): an invalid escape \x
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"\\x41\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 24: 400 invalid JSON (OpenAI): a short \u escape
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 29\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"\\u12\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 25: 400 invalid JSON (OpenAI): a \u escape with non-hex digits
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"\\uZZZZ\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 26: 400 invalid JSON (OpenAI): a raw tab inside a string
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"a\tb\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 27: 400 invalid JSON (OpenAI): a raw control byte inside a string
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"a\x01b\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 28: 400 invalid JSON (OpenAI): a NUL byte inside a string
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"a\x00b\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 29: 400 invalid JSON (OpenAI): a mismatched bracket
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":[1,2}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 30: 400 invalid JSON (OpenAI): a trailing comma in an array
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":[1,]}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 31: 400 invalid JSON (OpenAI): a key without a value
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":{\"b\"}}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 32: 400 invalid JSON (OpenAI): an unterminated string
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 36\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"a\":\"unterminated}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 33: 400 invalid JSON (OpenAI): a double comma
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r"
. "\n{\"model\":\"gpt-4o\",,\"a\":1}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 34: 400 invalid JSON (OpenAI): a comment
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r"
. "\n{\"model\":\"gpt-4o\"/*c*/}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 35: 400 invalid JSON (OpenAI): a UTF-8 byte order mark
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r"
. "\n\xef\xbb\xbf{\"model\":\"gpt-4o\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 36: 400 invalid JSON (OpenAI): a NUL byte after the object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r"
. "\n{\"model\":\"gpt-4o\"}\x00"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 37: 400 invalid JSON (OpenAI): a lone quote
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r"
. "\n\""
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 38: 400 invalid JSON (OpenAI): gzip bytes
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r"
. "\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 39: 400 invalid JSON (Anthropic): an unclosed object
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n{"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 40: 400 invalid JSON (Anthropic): a lone closing brace
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n}"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 41: 400 invalid JSON (Anthropic): a missing closing brace
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"mod"
. "el\":\"claude\""
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 42: 400 invalid JSON (Anthropic): a trailing comma in an object
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"mod"
. "el\":\"claude\",}"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 43: 400 invalid JSON (Anthropic): an extra closing brace
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"mod"
. "el\":\"claude\"}}"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 44: 400 invalid JSON (Anthropic): trailing garbage
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"mod"
. "el\":\"claude\"} x"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 45: 400 invalid JSON (Anthropic): two objects
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{\"mod"
. "el\":\"claude\"}{}"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 46: 400 invalid JSON (Anthropic): a missing colon
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{\"mod"
. "el\" \"claude\"}"
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 47: 400 top level [] is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r"
. "\n[]"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 48: 400 top level "gpt-4o" is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r"
. "\n\"gpt-4o\""
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 49: 400 top level 1 is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r"
. "\n1"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 50: 400 top level true is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r"
. "\ntrue"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 51: 400 top level null is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r"
. "\nnull"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 52: 400 top level [{"model":"gpt-4o"}] is not an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r"
. "\n[{\"model\":\"gpt-4o\"}]"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 53: 400 a body of blanks only
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r"
. "\n  "
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 54: 400 model is a number
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r"
. "\n{\"model\":1}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 55: 400 model is a negative float
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r"
. "\n{\"model\":-1.5e3}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 56: 400 model is null
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r"
. "\n{\"model\":null}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 57: 400 model is true
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r"
. "\n{\"model\":true}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 58: 400 model is false
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r"
. "\n{\"model\":false}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 59: 400 model is an array
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r"
. "\n{\"model\":[\"gpt-4o\"]}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 60: 400 model is an object
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r"
. "\n{\"model\":{\"name\":\"gpt-4o\"}}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 61: 400 model is an empty string
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r"
. "\n{\"model\":\"\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 62: 400 model is a string with an escaped CR LF
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 35\r\n\r"
. "\n{\"model\":\"gpt-4o\\r\\nX-Injected: 1\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_value"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 63: 400 model is a string with an escaped NUL
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"gpt-4o\\u0000\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_value"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 64: 400 model is a string with an escaped unit separator
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 23\r\n\r"
. "\n{\"model\":\"gpt\\u001f4o\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_value"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 65: 400 model is a string of 257 bytes
--- raw_request eval
("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 269\r\n"
. "\r\n{\"model\":\"")
. ("m" x 257)
. ("\"}")
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_value"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 66: 400 model is given twice
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 35\r\n\r"
. "\n{\"model\":\"gpt-4o\",\"model\":\"gpt-4o\"}"
--- error_code: 400
--- response_body_like: "type":"invalid_request_error","param":"model","code":"invalid_(value|json)"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 67: 400 model is given twice, once escaped
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 35\r\n\r"
. "\n{\"mod\\u0065l\":\"x\",\"model\":\"gpt-4o\"}"
--- error_code: 400
--- response_body_like: "type":"invalid_request_error","param":"model","code":"invalid_(value|json)"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 68: 400 model is only nested
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 33\r\n\r"
. "\n{\"messages\":[{\"model\":\"gpt-4o\"}]}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"missing_required_parameter"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 69: stream "true" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":\"true\",\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 70: stream 1 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 49\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":1,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 71: stream 0 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 49\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":0,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 72: stream null is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 52\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":null,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 73: stream {} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":{},\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 74: stream [] is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":[],\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 75: stream false is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 53\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":false,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 76: stream "yes" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 53\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":\"yes\",\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 77: stream_options "x" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 59\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":\"x"
. "\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 78: stream_options 1 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 57\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":1}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 79: stream_options null is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":nul"
. "l}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 80: stream_options [] is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 58\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 81: stream_options {"include_usage":"yes"} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 79\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":{\""
. "include_usage\":\"yes\"}}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 82: stream_options {"include_usage":1} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 75\r\n\r"
. "\n{\"model\":\"echo-headers\",\"stream\":true,\"stream_options\":{\""
. "include_usage\":1}}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 83: max_tokens "5" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 55\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":\"5\",\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 84: max_tokens -5 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":-5,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 85: max_tokens 0 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 53\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":0,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 86: max_tokens 1.5 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 55\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":1.5,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 87: max_tokens 1e400 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 57\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":1e400,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 88: max_tokens 99999999999999999999 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 72\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":99999999999999999999,\""
. "messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 89: max_tokens null is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":null,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 90: max_tokens [] is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":[],\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 91: max_tokens {} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 54\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":{},\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 92: max_tokens true is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 56\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_tokens\":true,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 93: max_completion_tokens "5" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 66\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_completion_tokens\":\"5\",\"mess"
. "ages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 94: max_completion_tokens -1 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 65\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_completion_tokens\":-1,\"message"
. "s\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 95: max_completion_tokens 1e308 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 68\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_completion_tokens\":1e308,\"mess"
. "ages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 96: max_completion_tokens null is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 67\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_completion_tokens\":null,\"messa"
. "ges\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 97: max_completion_tokens {} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 65\r\n\r"
. "\n{\"model\":\"echo-headers\",\"max_completion_tokens\":{},\"message"
. "s\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 98: n "2" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":\"2\",\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 99: n -2 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":-2,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 100: n 0 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":0,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 101: n 1e9 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 46\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":1e9,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 102: n null is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 47\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":null,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 103: n [] is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 45\r\n\r"
. "\n{\"model\":\"echo-headers\",\"n\":[],\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 104: best_of "2" is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 52\r\n\r"
. "\n{\"model\":\"echo-headers\",\"best_of\":\"2\",\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 105: best_of -1 is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 51\r\n\r"
. "\n{\"model\":\"echo-headers\",\"best_of\":-1,\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 106: best_of {} is passed on to the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 51\r\n\r"
. "\n{\"model\":\"echo-headers\",\"best_of\":{},\"messages\":[]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 107: responses max_output_tokens "100" is passed on
--- raw_request eval
"POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: close"
. "\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n{\"m"
. "odel\":\"echo-headers\",\"max_output_tokens\":\"100\",\"input\":\"hi"
. "\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/responses\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 108: responses max_output_tokens -1 is passed on
--- raw_request eval
"POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: close"
. "\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"m"
. "odel\":\"echo-headers\",\"max_output_tokens\":-1,\"input\":\"hi\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/responses\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 109: responses max_output_tokens 1e400 is passed on
--- raw_request eval
"POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: close"
. "\r\nContent-Type: application/json\r\nContent-Length: 63\r\n\r\n{\"m"
. "odel\":\"echo-headers\",\"max_output_tokens\":1e400,\"input\":\"hi\""
. "}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/responses\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 110: responses max_output_tokens null is passed on
--- raw_request eval
"POST /v1/responses HTTP/1.1\r\nHost: localhost\r\nConnection: close"
. "\r\nContent-Type: application/json\r\nContent-Length: 62\r\n\r\n{\"m"
. "odel\":\"echo-headers\",\"max_output_tokens\":null,\"input\":\"hi\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/responses\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 111: Content-Type text/plain
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\n{\"m"
. "odel\":\"echo-headers\"}"
--- error_code: 415
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unsupported_media_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 112: Content-Type application/x-www-form-urlencoded
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent"
. "-Length: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 415
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unsupported_media_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 113: Content-Type multipart/form-data; boundary=x
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-L"
. "ength: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 415
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unsupported_media_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 114: Content-Type application/jsonx
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/jsonx\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 415
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unsupported_media_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 115: Content-Type text/json
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: text/json\r\nContent-Length: 24\r\n\r\n{\"mo"
. "del\":\"echo-headers\"}"
--- error_code: 415
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unsupported_media_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 116: Content-Type application/json; charset=utf-8
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json; charset=utf-8\r\nContent-L"
. "ength: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 117: Content-Type Application/JSON
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: Application/JSON\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 118: 413 body over client_max_body_size (Content-Length)
--- raw_request eval
("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 17066\r"
. "\n\r\n{\"model\":\"echo-headers\",\"messages\":[{\"role\":\"user\","
. "\"content\":\"")
. ("x" x 17000)
. ("\"}]}")
--- error_code: 413
--- response_body_like: ^\{"error":\{"message":"Request body too large"
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 119: 413 chunked body over client_max_body_size
--- raw_request eval
("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\nfa0\r\n{\"model\":\"echo-headers\",\"messages\":[{\"role\""
. ":\"user\",\"content\":\"")
. ("x" x 3938)
. (("\r\nfa0\r\n")
. ("x" x 4000)
. (("\r\nfa0\r\n")
. ("x" x 4000)
. (("\r\nfa0\r\n")
. ("x" x 4000)
. (("\r\n42a\r\n")
. ("x" x 1062)
. ("\"}]}\r\n0\r\n\r\n")))))
--- error_code: 413
--- response_body_like: ^\{"error":\{"message":"Request body too large"
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 120: a body just under client_max_body_size is served
--- raw_request eval
("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 16066\r"
. "\n\r\n{\"model\":\"echo-headers\",\"messages\":[{\"role\":\"user\","
. "\"content\":\"")
. ("x" x 16000)
. ("\"}]}")
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 121: chunked body with a chunk extension
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n18;ext=1\r\n{\"model\":\"echo-headers\"}\r\n0\r\n\r\n"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 122: chunked body with a trailer
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n18\r\n{\"model\":\"echo-headers\"}\r\n0\r\nX-Trailer: 1\r"
. "\n\r\n"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 123: chunked body one byte per chunk
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n1\r\n{\r\n1\r\n\"\r\n1\r\nm\r\n1\r\no\r\n1\r\nd\r\n1\r\ne"
. "\r\n1\r\nl\r\n1\r\n\"\r\n1\r\n:\r\n1\r\n\"\r\n1\r\ne\r\n1\r\nc\r\n1"
. "\r\nh\r\n1\r\no\r\n1\r\n-\r\n1\r\nh\r\n1\r\ne\r\n1\r\na\r\n1\r\nd\r"
. "\n1\r\ne\r\n1\r\nr\r\n1\r\ns\r\n1\r\n\"\r\n1\r\n}\r\n0\r\n\r\n"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 124: 400 chunk size that is not hex
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 125: 400 chunk size that overflows
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n"
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 126: 400 chunk data longer than its size
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n2\r\n{\"model\":\"echo-headers\"}\r\n0\r\n\r\n"
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 127: 400 Transfer-Encoding and Content-Length together
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 128: 501 Transfer-Encoding other than chunked
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: gzip,"
. " chunked\r\n\r\n0\r\n\r\n"
--- error_code: 501
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 129: an unfinished chunked body times out, nothing is proxied
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n18\r\n{\"model\":\"echo-headers\"}\r\n"
--- timeout: 4
--- ignore_response
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 130: empty chunked body is a 400
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunk"
. "ed\r\n\r\n0\r\n\r\n"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 131: 400 Content-Length shorter than the body: the JSON is cut
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 132: Content-Length longer than the body times out, nothing is proxied
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- timeout: 4
--- ignore_response
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 133: 400 Content-Length negative
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: -1\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 134: 400 Content-Length not a number
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: abc\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 135: 400 Content-Length overflowing
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 99999999"
. "999999999999\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 136: 400 Content-Length with a space
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 1 0\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 137: 400 Content-Length given twice
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nCo"
. "ntent-Length: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 138: 400 Content-Length 0
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r"
. "\n"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 139: 400 HTTP/1.0 POST without a body length
--- raw_request eval
"POST /v1/chat/completions HTTP/1.0\r\nHost: localhost\r\nContent-Typ"
. "e: application/json\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 140: a body sent in pieces within client_body_timeout is served
--- raw_request eval
["POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":",
 "\"echo-",
 "headers\"}"]
--- raw_request_middle_delay: 0.2
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 141: a body that stalls past client_body_timeout is dropped, nothing is proxied
--- raw_request eval
["POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":",
 "\"echo-headers\"}"]
--- raw_request_middle_delay: 1.6
--- timeout: 4
--- ignore_response
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 142: two pipelined requests are both served
--- pipelined_requests eval
["POST /v1/chat/completions\n" . "{\"model\":\"echo-headers\"}",
 "POST /v1/chat/completions\n" . "{\"model\":\"gpt-4o\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- no_error_log
[alert]
[crit]



=== TEST 143: a malformed request pipelined after a good one gets its own 400
--- pipelined_requests eval
["POST /v1/chat/completions\n" . "{\"model\":\"echo-headers\"}",
 "POST /v1/chat/completions\n" . "{\"model\":"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 400]
--- no_error_log
[alert]
[crit]



=== TEST 144: a good request pipelined after an unknown model is served
--- pipelined_requests eval
["POST /v1/chat/completions\n" . "{\"model\":\"nope\"}",
 "POST /v1/chat/completions\n" . "{\"model\":\"echo-headers\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[404, 200]
--- no_error_log
[alert]
[crit]



=== TEST 145: 400 a header with a bare CR
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "Foo: a\rInjected: b\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 146: 400 a header name with a NUL
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "F\x00oo: a\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 147: a header line over large_client_header_buffers is refused
--- raw_request eval
("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "Long: ")
. ("a" x 9000)
. ("\r\n\r\n{\"model\":\"echo-headers\"}")
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 148: a header with an obsolete line folding is refused
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "Foo: a\r\n b\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 149: X-Forwarded-For and Forwarded from the client are not passed on
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "Forwarded-For: 10.0.0.1\r\nForwarded: for=10.0.0.1\r\n\r\n{\"model\""
. ":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: (?i)forwarded
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 150: a Host header with a path does not change the provider
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: evil.example/x\r\nConnec"
. "tion: close\r\nContent-Type: application/json\r\nContent-Length: 24"
. "\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 151: path with a dot-dot segment
--- raw_request eval
"POST /v1/../v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConne"
. "ction: close\r\nContent-Type: application/json\r\nContent-Length: 24"
. "\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 152: path with a dot segment
--- raw_request eval
"POST /v1/./chat/completions HTTP/1.1\r\nHost: localhost\r\nConnectio"
. "n: close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 153: path with a double slash
--- raw_request eval
"POST /v1//chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection"
. ": close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 154: path with an encoded slash
--- raw_request eval
"POST /v1/chat%2Fcompletions HTTP/1.1\r\nHost: localhost\r\nConnectio"
. "n: close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 155: path with query arguments (dropped)
--- raw_request eval
"POST /v1/chat/completions?api_key=sk-client&x=1 HTTP/1.1\r\nHost: lo"
. "calhost\r\nConnection: close\r\nContent-Type: application/json\r\nCo"
. "ntent-Length: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 156: path with a trailing slash
--- raw_request eval
"POST /v1/chat/completions/ HTTP/1.1\r\nHost: localhost\r\nConnection"
. ": close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unknown_url"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 157: path with upper case
--- raw_request eval
"POST /v1/CHAT/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unknown_url"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 158: path with an encoded NUL
--- raw_request eval
"POST /v1/chat/completions%00 HTTP/1.1\r\nHost: localhost\r\nConnecti"
. "on: close\r\nContent-Type: application/json\r\nContent-Length: 24\r"
. "\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 159: path with dot-dot above the root
--- raw_request eval
"POST /v1/../../etc/passwd HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 160: path with dot-dot to models
--- raw_request eval
"POST /v1/chat/completions/../../models HTTP/1.1\r\nHost: localhost\r"
. "\nConnection: close\r\nContent-Type: application/json\r\nContent-Len"
. "gth: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 405
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 161: path with an absolute URI
--- raw_request eval
"POST http://evil.example/v1/chat/completions HTTP/1.1\r\nHost: local"
. "host\r\nConnection: close\r\nContent-Type: application/json\r\nConte"
. "nt-Length: 24\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: sk-client|api_key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 162: 405 GET on chat/completions
--- raw_request eval
"GET /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection: "
. "close\r\nContent-Type: application/json\r\n\r\n"
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 163: 405 PUT on chat/completions
--- raw_request eval
"PUT /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection: "
. "close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"echo-headers\"}"
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 164: 405 DELETE on chat/completions
--- raw_request eval
"DELETE /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnectio"
. "n: close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 165: 405 PATCH on chat/completions
--- raw_request eval
"PATCH /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection"
. ": close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n"
. "\r\n{\"model\":\"echo-headers\"}"
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 166: 405 OPTIONS on chat/completions
--- raw_request eval
"OPTIONS /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnecti"
. "on: close\r\nContent-Type: application/json\r\n\r\n"
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 167: 405 TRACE is refused by nginx
--- raw_request eval
"TRACE /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection"
. ": close\r\n\r\n"
--- error_code: 405
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 168: a 0xFF byte in the model
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r"
. "\n{\"model\":\"gpt-\xff\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 169: an overlong encoding in the model
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r"
. "\n{\"model\":\"gpt-\xc0\xaf\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 170: an encoded surrogate in the model
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r"
. "\n{\"model\":\"deepseek-\xed\xa0\x80\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 171: a truncated sequence in the model
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r"
. "\n{\"model\":\"gpt-\xe2\x82\"}"
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 172: a lone escaped surrogate in the model (400)
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r"
. "\n{\"model\":\"gpt\\ud800\"}"
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 173: invalid bytes in a message
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 69\r\n\r"
. "\n{\"model\":\"echo-headers\",\"messages\":[{\"role\":\"user\",\"con"
. "tent\":\"\xc3(\xff\"}]}"
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 174: client credentials are not passed on: Authorization Bearer
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nAu"
. "thorization: Bearer sk-client-secret\r\n\r\n{\"model\":\"echo-header"
. "s\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 175: client credentials are not passed on: Authorization Basic
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nAu"
. "thorization: Basic c2stY2xpZW50LXNlY3JldDp4\r\n\r\n{\"model\":\"echo"
. "-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 176: client credentials are not passed on: authorization in lower case
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nau"
. "thorization: Bearer sk-client-secret\r\n\r\n{\"model\":\"echo-header"
. "s\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 177: client credentials are not passed on: x-api-key
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nx-"
. "api-key: sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 178: client credentials are not passed on: X-Api-Key in mixed case
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nX-"
. "Api-Key: sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 179: client credentials are not passed on: api-key (Azure)
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nap"
. "i-key: sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 180: client credentials are not passed on: x-goog-api-key (Gemini)
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nx-"
. "goog-api-key: sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 181: client credentials are not passed on: Proxy-Authorization
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nPr"
. "oxy-Authorization: Basic c2stY2xpZW50LXNlY3JldA==\r\n\r\n{\"model\":"
. "\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 182: client credentials are not passed on: Cookie
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nCo"
. "okie: session=sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 183: client credentials are not passed on: OpenAI-Organization and OpenAI-Project
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nOp"
. "enAI-Organization: org-client-secret\r\nOpenAI-Project: proj-client-"
. "secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 184: client credentials are not passed on: all of them at once
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nAu"
. "thorization: Bearer sk-client-secret\r\nx-api-key: sk-client-secret"
. "\r\napi-key: sk-client-secret\r\nProxy-Authorization: sk-client-secr"
. "et\r\nCookie: a=sk-client-secret\r\n\r\n{\"model\":\"echo-headers\"}"
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie|(?i)proxy-authorization|(?i)x-goog-api-key
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 185: 400 duplicate Authorization headers are refused by nginx
--- raw_request eval
"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nConnection:"
. " close\r\nContent-Type: application/json\r\nContent-Length: 24\r\nAu"
. "thorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n{\"model\":"
. "\"echo-headers\"}"
--- error_code: 400
--- response_body_like: <title>400 Bad Request</title>
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 186: client credentials on the Anthropic endpoint are replaced by the provider key
--- raw_request eval
"POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nConnection: close\r"
. "\nContent-Type: application/json\r\nContent-Length: 53\r\nx-api-key:"
. " sk-client-secret\r\nanthropic-version: 2023-06-01\r\n\r\n{\"model\""
. ":\"echo-headers\",\"max_tokens\":5,\"messages\":[]}"
--- error_code: 200
--- response_body_unlike: client-secret
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 187: HTTP/2: malformed JSON
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 188: HTTP/2: top level array
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "[]"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_json"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 189: HTTP/2: model is a number
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":1}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"invalid_type"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 190: HTTP/2: model given twice
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":\"gpt-4o\",\"model\":\"gpt-4o\"}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 191: HTTP/2: unknown model
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":\"nope\"}"
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 192: HTTP/2: GET on chat/completions
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request
GET /v1/chat/completions
--- more_headers
Content-Type: application/json
--- error_code: 405
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"method_not_allowed"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 193: HTTP/2: unknown endpoint
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request
GET /v1/nope
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"unknown_url"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 194: HTTP/2: query arguments are dropped
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions?key=sk-client-secret\n" . "{\"model\":\"echo-headers\"}"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_unlike: client-secret
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 195: HTTP/2: client credentials are not passed on
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":\"echo-headers\"}"
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-client-secret
x-api-key: sk-client-secret
Cookie: c=sk-client-secret
Proxy-Authorization: sk-client-secret
--- error_code: 200
--- response_body_unlike: client-secret|(?i)cookie
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 196: HTTP/2: stream as a string is passed on
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":\"echo-headers\",\"stream\":\"true\"}"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: ^POST /mock/e/v1/chat/completions\r?\n
--- error_log
matches "/mock/
--- no_error_log
[alert]
[crit]



=== TEST 197: HTTP/2: invalid UTF-8 in the model
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/chat/completions\n" . "{\"model\":\"gpt-\xff\"}"
--- more_headers
Content-Type: application/json
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"[^"]*","type":"invalid_request_error","param":(null|"[a-z_]+"),"code":"model_not_found"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]



=== TEST 198: HTTP/2: Anthropic endpoint, malformed JSON
# the test server speaks HTTP/2 only: the providers get a server of their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream e host=127.0.0.1 port=$TEST_NGINX_RAND_PORT_1 tls=off path=/mock/e/v1 key=sk-provider-e;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route echo-headers e;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /mock/a/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock;
    }
    location /mock/e/v1/ {
        rewrite_log on;
        rewrite "^(/mock/.*)$" $1 break;
        llm_mock echo=headers;
    }
}
--- config
location /v1/ {
    client_max_body_size 16k;
    include ../../../conf/llm_params;
}
--- http2
--- request eval
"POST /v1/messages\n" . "{\"model\":"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like: ^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"]*"\}\}$
--- no_error_log
matches "/mock/
[alert]
[crit]
