# Key retry and per-provider timeouts.
#
# A key answered 401, 403 or 429 is retried at once with the provider's
# next usable key (once per key) before the request fails over; the
# attempts name keys by position (a#2), never by value.  connect_timeout=
# and read_timeout= on llm_upstream override the location's proxy
# timeouts for attempts to that provider only.

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key_file=../html/keys.txt;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
_EOC_

our $Config = <<'_EOC_';
location /v1/ { include ../../../conf/llm_params; }
_EOC_

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

run_tests();

__DATA__

=== TEST 1: 429 on the first key: the second key answers at once
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ {
    if ($http_authorization = "Bearer sk-limited") {
        return 429 '{"error":{"message":"rate limited","type":"requests","param":null,"code":"rate_limit_exceeded"}}';
    }
    add_header X-Key $http_authorization;
    llm_mock;
}
location /mock/b/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-limited
sk-good
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a#1:429 a#2:200
X-Provider: a
X-Key: Bearer sk-good
--- error_log
key #1 of provider "a" cools down
--- no_error_log eval
[qr/\[(?:warn|error|notice)\].*sk-limited/, "circuit opened", "[alert]",
 "[crit]"]



=== TEST 2: 401 (not in fail_on) on the first key: the next key answers
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key_file=../html/keys.txt;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ {
    if ($http_authorization = "Bearer sk-revoked") {
        return 401 '{"error":{"message":"Incorrect API key provided: sk-revoked","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}';
    }
    llm_mock;
}
--- user_files
>>> keys.txt
sk-revoked
sk-good
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a#1:401 a#2:200
--- response_body_unlike: sk-
--- no_error_log eval
[qr/\[(?:warn|error|notice)\].*sk-revoked/, "[alert]", "[crit]"]



=== TEST 3: 403 on every key (not in fail_on): a 502 that names positions only
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ {
    return 403 '{"error":{"message":"key sk-drained-1 has no quota","type":"insufficient_quota"}}';
}
location /mock/b/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-drained-1
sk-drained-2
sk-drained-3
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 502
--- response_headers
X-Attempts: a#1:403 a#2:403 a#3:403
--- response_body_like: The provider refused the request: a#1:403 a#2:403 a#3:403
--- response_body_unlike: sk-drained
--- no_error_log eval
[qr/\[(?:warn|error|notice)\].*sk-drained/, "[alert]", "[crit]"]



=== TEST 4: 429 on every key: then the next target
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=429; }
location /mock/b/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-a1
sk-a2
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a#1:429 a#2:429 b:200
X-Provider: b
--- error_log
key #1 of provider "a" cools down
key #2 of provider "a" cools down
provider "a" failed (status 429)
--- no_error_log
[alert]
[crit]



=== TEST 5: a cooling key is not retried; the others are, once each
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key_file=../html/keys.txt fail_timeout=60s;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ {
    if ($http_authorization = "Bearer sk-3") {
        return 429 '{"error":{"message":"rate limited","type":"requests"}}';
    }
    if ($http_authorization = "Bearer sk-1") {
        return 429 '{"error":{"message":"rate limited","type":"requests"}}';
    }
    llm_mock;
}
--- user_files
>>> keys.txt
sk-1
sk-2
sk-3
--- request eval
["POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}", "POST /v1/chat/completions
{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers eval
["X-Attempts: a#1:429 a#2:200", "X-Attempts: a#2:200", "X-Attempts: a#3:429 a#2:200"]
--- no_error_log
[alert]
[crit]



=== TEST 6: a single key is not named by position; 429 fails over as before
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=429; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:429 b:200
--- no_error_log
[alert]
[crit]



=== TEST 7: read_timeout= shorter than the location's: that provider times out, the next one does not
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a read_timeout=300ms;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    proxy_read_timeout 20s;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock delay=3s; }
location /mock/b/v1/ { llm_mock delay=1s; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:timeout b:200
X-Provider: b
--- error_log
upstream timed out (110: Connection timed out) while reading response header from upstream
provider "a" failed (timeout)
--- no_error_log
[alert]
[crit]



=== TEST 8: read_timeout= longer than the location's
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a read_timeout=20s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    proxy_read_timeout 300ms;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock delay=1s; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- no_error_log
timed out
[alert]
[crit]



=== TEST 9: connect_timeout= and read_timeout= on a provider that answers
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a connect_timeout=2s read_timeout=5s;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- no_error_log
[error]



=== TEST 10: invalid connect_timeout=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k connect_timeout=0;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "connect_timeout=0" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 11: invalid read_timeout=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k
             read_timeout=soon;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "read_timeout=soon" in llm_upstream "a" in \S+/nginx\.conf:26$}
