# Circuit breaker: max_fails failures within fail_timeout open a provider's
# circuit in the shared zone; open providers are skipped by every worker;
# after fail_timeout (or a longer Retry-After) one trial request decides.
#
# Two workers with a master.  TEST_NGINX_REUSE_PORT (a documented
# Test::Nginx variable) adds "reuseport" to the generated listen directive,
# so that the kernel spreads the test client's connections over both
# workers (without it one worker tends to accept them all).  Which worker
# serves which request is random, so every expectation below holds whatever
# the spread; but with per-worker state instead of shared state, the
# sequence of attempts would differ as soon as the spread is uneven.
#
# Several requests in one block: Test::Nginx sends them one after the other
# on separate connections, sleeps "--- wait" seconds between them, and
# checks error_log patterns against the lines each request added; so log
# lines that only one request of a block writes are checked in a following
# block without "--- config", which keeps the same nginx (and zone) running
# and reads the error log from its start.
#
# A provider's mock can behave per endpoint (a nested exact location):
# e.g. failing on embeddings while chat/completions works.

BEGIN { $ENV{TEST_NGINX_REUSE_PORT} = 1 }

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# Blocks share their setup.  pair() is route m of two providers, a and b,
# each with the circuit parameters a block gives it (an eval section runs
# in Test::Base's filter package: main::pair).  A block without its own
# --- http_config gets pair("max_fails=1 fail_timeout=1s"); a block
# without --- config reuses the running nginx and needs none.  A config
# without its own "location /v1/" gets the gateway's, which shows the
# attempts in X-Attempts.

sub pair {
    my ($a, $b) = @_;
    my $up = 'llm_upstream %s host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT'
             . ' tls=off path=/mock/%s/v1 key=sk-%s%s;' . "\n";

    return sprintf($up, 'a', 'a', 'a', $a ? " $a" : '')
           . sprintf($up, 'b', 'b', 'b', $b ? " $b" : '')
           . "llm_route m a b;\n";
}

our $V1 = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
_EOC_

# Test::Nginx restarts nginx only when "--- config" changes, and blocks here
# may differ in http_config alone: make every config unique.
add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', pair("max_fails=1 fail_timeout=1s"));
    }

    if (defined $block->config) {
        my $config = $block->config;

        $config = $V1 . $config if $config !~ m{location /v1/ };
        $block->set_value(config => "# " . $block->name . "\n" . $config);
    }
});

run_tests();

__DATA__

=== TEST 1: max_fails=2: after 2 failures the provider is skipped, by every worker
--- http_config eval
main::pair("max_fails=2 fail_timeout=10s")
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 10 ]
--- error_code eval
[ (200) x 10 ]
--- response_headers eval
[
    "X-Attempts: a:503 b:200\nX-Provider: b",
    "X-Attempts: a:503 b:200\nX-Provider: b",
    ("X-Attempts: b:200\nX-Provider: b") x 8,
]
--- no_error_log
[alert]
[crit]



=== TEST 2: (same nginx as TEST 1) still skipped; the circuit opened once, logged
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- response_headers
X-Attempts: b:200
--- grep_error_log: circuit opened
--- grep_error_log_out
circuit opened
--- error_log eval
[
    'provider "a" failed (status 503)',
    qr/provider "a" circuit opened for (?:10s|10000ms) after 2 failures/,
]
--- no_error_log
provider "b" failed
[alert]
[crit]



=== TEST 3: failures further apart than fail_timeout do not add up
--- http_config eval
main::pair("max_fails=2 fail_timeout=500ms")
--- config
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 3 ]
--- wait: 0.7
--- error_code eval
[ (200) x 3 ]
--- response_headers eval
[ ("X-Attempts: a:503 b:200") x 3 ]
--- no_error_log
circuit opened
[alert]
[crit]



=== TEST 4: open, skipped, failed trial opens it again, skipped
fail_timeout=2s, 1.2 s between requests: t=0 opens (until 2.0), t=1.2
skipped, t=2.4 the trial fails (open again until 4.4), t=3.6 skipped.  A
request may come later than its 1.2 s (a slow or loaded machine) by up
to 0.8 s; it never comes earlier.
--- http_config eval
main::pair("max_fails=1 fail_timeout=2s")
--- config
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 4 ]
--- wait: 1.2
--- error_code eval
[ (200) x 4 ]
--- response_headers eval
[
    "X-Attempts: a:503 b:200",
    "X-Attempts: b:200",
    "X-Attempts: a:503 b:200",
    "X-Attempts: b:200",
]
--- no_error_log
circuit closed
[alert]
[crit]



=== TEST 5: a successful trial after fail_timeout closes the circuit
a fails on embeddings only.  fail_timeout=2s, 1.2 s between requests
(each may come up to 0.8 s late, as in TEST 4): t=0 embeddings opens a
(until 2.0); t=1.2 chat skips a although a would answer; t=2.4 chat is
the trial, a answers; t=3.6 chat goes to a at once (a circuit still
waiting for its trial's result would skip a until t=4.4).
--- http_config eval
main::pair("max_fails=1 fail_timeout=2s")
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location = /mock/a/v1/embeddings { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[
    "POST /v1/embeddings\n{\"model\":\"m\",\"input\":\"x\"}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
]
--- wait: 1.2
--- error_code eval
[ (200) x 4 ]
--- response_headers eval
[
    "X-Attempts: a:503 b:200\nX-Provider: b",
    "X-Attempts: b:200\nX-Provider: b",
    "X-Attempts: a:200\nX-Provider: a",
    "X-Attempts: a:200\nX-Provider: a",
]
--- no_error_log
[alert]
[crit]



=== TEST 6: (same nginx as TEST 5) the log tells the circuit opened, then closed
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- response_headers
X-Attempts: a:200
--- grep_error_log eval: qr/provider "a" circuit (?:opened|closed)/
--- grep_error_log_out
provider "a" circuit opened
provider "a" circuit closed
--- no_error_log
[alert]
[crit]



=== TEST 7: when every target is open, the first one is still tried
Both providers fail on embeddings only and open; chat then still reaches a.
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s", "max_fails=1 fail_timeout=10s")
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock; }
location = /mock/a/v1/embeddings { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
location = /mock/b/v1/embeddings { llm_mock status=500; }
--- request eval
[
    "POST /v1/embeddings\n{\"model\":\"m\",\"input\":\"x\"}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
]
--- error_code eval
[502, 200]
--- response_headers eval
[
    "X-Attempts: a:503 b:500",
    "X-Attempts: a:200\nX-Provider: a",
]
--- response_body_like eval
[
    qr/^\{"error":\{"message":"All providers failed: a:503 b:500","type":"server_error","param":null,"code":null\}\}$/,
    qr/^\{"id":"chatcmpl-mock",/,
]
--- no_error_log
[alert]
[crit]



=== TEST 8: when every target is open, they are still tried in order
SPEC.md: "If every target is open, the route still tries them in order
(never nothing to try)".  a fails everything, b fails on embeddings only:
after the first request both are open, and chat must still reach b after a.
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s", "max_fails=1 fail_timeout=10s")
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
    add_header X-Provider $llm_provider always;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
location = /mock/b/v1/embeddings { llm_mock status=503; }
--- request eval
[
    "POST /v1/embeddings\n{\"model\":\"m\",\"input\":\"x\"}",
    "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
]
--- error_code eval
[502, 200]
--- response_headers eval
[
    "X-Attempts: a:503 b:503",
    "X-Attempts: a:503 b:200\nX-Provider: b",
]
--- no_error_log
[alert]
[crit]



=== TEST 9: a 429's Retry-After lengthens the open period beyond fail_timeout
fail_timeout=500ms but Retry-After: 30: 0.8 s later a is still skipped.
--- http_config eval
main::pair("max_fails=1 fail_timeout=500ms")
--- config
location /mock/a/v1/ { llm_mock status=429 retry_after=30; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 2 ]
--- wait: 0.8
--- error_code eval
[200, 200]
--- response_headers eval
[
    "X-Attempts: a:429 b:200",
    "X-Attempts: b:200",
]
--- no_error_log
[alert]
[crit]



=== TEST 10: (same nginx as TEST 9) the open period logged is Retry-After's
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- response_headers
X-Attempts: b:200
--- error_log eval
[
    'provider "a" failed (status 429)',
    qr/provider "a" circuit opened for (?:30s|30000ms) after 1 failures/,
]
--- no_error_log
[alert]
[crit]



=== TEST 11: the same 429 without Retry-After: the trial comes after fail_timeout
--- http_config eval
main::pair("max_fails=1 fail_timeout=500ms")
--- config
location /mock/a/v1/ { llm_mock status=429; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 2 ]
--- wait: 0.8
--- error_code eval
[200, 200]
--- response_headers eval
[
    "X-Attempts: a:429 b:200",
    "X-Attempts: a:429 b:200",
]
--- no_error_log
[alert]
[crit]



=== TEST 12: a Retry-After shorter than fail_timeout does not shorten it
fail_timeout=10s, Retry-After: 1: 1.3 s later a is still skipped.
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s")
--- config
location /mock/a/v1/ { llm_mock status=429 retry_after=1; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 2 ]
--- wait: 1.3
--- error_code eval
[200, 200]
--- response_headers eval
[
    "X-Attempts: a:429 b:200",
    "X-Attempts: b:200",
]
--- no_error_log
[alert]
[crit]



=== TEST 13: max_fails=0 disables the circuit breaker
--- http_config eval
main::pair("max_fails=0")
--- config
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 4 ]
--- error_code eval
[ (200) x 4 ]
--- response_headers eval
[ ("X-Attempts: a:503 b:200") x 4 ]
--- no_error_log
circuit opened
[alert]
[crit]



=== TEST 14: a non-failover answer (400) does not count as a failure
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s")
--- config
location /mock/a/v1/ { llm_mock status=400; }
location /mock/b/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}" } 1 .. 3 ]
--- error_code eval
[ (400) x 3 ]
--- response_headers eval
[ ("X-Attempts: a:400") x 3 ]
--- no_error_log
circuit opened
[alert]
[crit]



=== TEST 15: a provider that cuts its streams after a 200 header fails: its circuit opens
--- http_config eval
main::pair("max_fails=2 fail_timeout=10s")
--- config
location /mock/a/v1/ { llm_mock "content=Hi there" cut=2; }
location /mock/b/v1/ { llm_mock "content=from b"; }
--- request eval
[ map { "POST /v1/chat/completions HTTP/1.0\n{\"model\":\"m\",\"stream\":true,\"messages\":[]}" } 1 .. 4 ]
--- error_code eval
[ (200) x 4 ]
--- response_headers eval
[ ("X-Attempts: a:200") x 2, ("X-Attempts: b:200") x 2 ]
--- ignore_response_body
--- no_error_log
[alert]
[crit]



=== TEST 16: (same nginx as TEST 15) each cut was a failure, and the second opened the circuit
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- response_headers
X-Attempts: b:200
--- grep_error_log eval
qr/provider "a" failed \(answer cut\)|circuit opened/
--- grep_error_log_out
provider "a" failed (answer cut)
provider "a" failed (answer cut)
circuit opened
--- no_error_log
provider "b" failed
[alert]
[crit]



=== TEST 17: a JSON answer cut short after its header is a failure too
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s")
--- config
location /mock/a/v1/ { llm_mock "content=Hi there" cut=1; }
location /mock/b/v1/ { llm_mock "content=from b"; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- ignore_response
--- wait: 0.2
--- no_error_log
[alert]
[crit]



=== TEST 18: (same nginx as TEST 17) the cut opened a's circuit
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log eval
[ 'provider "a" failed (answer cut)', qr/provider "a" circuit opened/ ]
--- no_error_log
[alert]
[crit]



=== TEST 19: complete answers keep the circuit closed (a 200 header alone decides nothing)
--- http_config eval
main::pair("max_fails=1 fail_timeout=10s")
--- config
location /mock/a/v1/ { llm_mock "content=Hi there"; }
location /mock/b/v1/ { llm_mock "content=from b"; }
--- request eval
[ "POST /v1/chat/completions\n{\"model\":\"m\",\"stream\":true,\"messages\":[]}",
  "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[]}",
  "POST /v1/chat/completions\n{\"model\":\"m\",\"stream\":true,\"messages\":[]}" ]
--- error_code eval
[ (200) x 3 ]
--- response_headers eval
[ ("X-Attempts: a:200") x 3 ]
--- no_error_log
answer cut
circuit opened
[alert]
[crit]
