# A reload keeps the shared zone: circuit-breaker state survives
# "nginx -s reload" (same zone name and size), matched by provider name.
#
# TEST_NGINX_USE_HUP=1 (a documented Test::Nginx variable) keeps one nginx
# master running for the whole file: the first block starts it, every later
# block rewrites nginx.conf and sends HUP, exactly what "nginx -s reload"
# does.  The blocks therefore depend on each other and must run in order.
#
#   TEST 1  a fails once (max_fails=1 fail_timeout=60s): its circuit opens.
#   TEST 2  reload, same zone; a's mock now answers 200, yet a is still
#           skipped: the open circuit came through the reload.
#   TEST 3  reload with a changed config: a new provider c and a provider
#           a2 (new name, same mock as a) start with a clean state and work,
#           while a is still skipped.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

# Under valgrind nginx runs as a single process, which nginx does not
# reload as a master does: this file needs the master, so it is skipped.
BEGIN {
    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        print "1..0 # SKIP a reload needs the master process\n";
        exit 0;
    }
}

use Test::Nginx::Socket 'no_plan';

master_on();    # a reload as in production: the master re-reads the config
no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# gets the one below (a block without --- config reuses the
# running nginx and needs none).

our $HttpConfig = <<'_EOC_';
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=60s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
_EOC_

# every block must reload: make every config unique
add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }

    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

run_tests();

__DATA__

=== TEST 1: a fails and its circuit opens for 60s
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- error_log eval
qr/provider "a" circuit opened for (?:60s|60000ms) after 1 failures/
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: after a reload (same zone) a is still skipped, although it would answer now
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 3 ]
--- more_headers eval
[ ("Content-Type: application/json") x 3 ]
--- error_code eval
[ (200) x 3 ]
--- response_headers eval
[ ("X-Attempts: b:200") x 3 ]
--- error_log
provider "a" skipped, circuit open
--- no_error_log
incompatible layout
circuit opened
circuit closed
[alert]
[crit]
[emerg]



=== TEST 3: after a reload with new providers: they work, a is still skipped
--- http_config
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=60s;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_upstream a2 host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a max_fails=1 fail_timeout=60s;
llm_route m a b;
llm_route m2 c;
llm_route m3 a2 b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
location /mock/c/v1/ { llm_mock "content=Hello from c" prompt_tokens=1 completion_tokens=3; }
--- request eval
[
    "POST /v1/chat/completions\n{\"model\":\"m2\",\"messages\":[]}",
    "POST /v1/chat/completions\n{\"model\":\"m3\",\"messages\":[]}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
]
--- more_headers eval
[ ("Content-Type: application/json") x 3 ]
--- error_code eval
[ (200) x 3 ]
--- response_headers eval
[
    "X-Attempts: c:200\nX-Provider: c\nX-Mock-Uri: /mock/c/v1/chat/completions",
    "X-Attempts: a2:200\nX-Provider: a2\nX-Mock-Uri: /mock/a/v1/chat/completions",
    "X-Attempts: b:200\nX-Provider: b",
]
--- response_body eval
[
    '{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"m2","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from c"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":3,"total_tokens":4}}',
    qr/^\{"id":"chatcmpl-mock","object":"chat\.completion","created":1700000000,"model":"m3",/,
    qr/^\{"id":"chatcmpl-mock","object":"chat\.completion","created":1700000000,"model":"m",/,
]
--- no_error_log
incompatible layout
circuit opened
circuit closed
[alert]
[crit]
[emerg]
