# Budget counters live in the shared zone and survive "nginx -s reload"
# (same zone name and size).
#
# TEST_NGINX_USE_HUP=1 (a documented Test::Nginx variable) keeps one nginx
# master running for the whole file: the first block starts it, every later
# block rewrites nginx.conf and sends HUP, as "nginx -s reload" does.  The
# blocks depend on each other and run in order.  The counts are read from
# the x-ratelimit-* headers (remaining = limit - used - this request's
# reservation); a request reserves its body bytes + max_tokens (100) and is
# charged its real usage, 10 + 20 tokens from the mock.

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

master_on();
no_shuffle();

our $B = '{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';
our $E = length($B) + 100;
our $U = 30;

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=3/d tokens=10000/d name=team;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
_EOC_

# every block must reload: make every config unique
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

=== TEST 1: the first request of the day
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-requests: 3\nx-ratelimit-remaining-requests: 2\n"
. "x-ratelimit-limit-tokens: 10000\nx-ratelimit-remaining-tokens: " . (10000 - $::E)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: after a reload the budget goes on from what was used
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-requests: 3\nx-ratelimit-remaining-requests: 1\n"
. "x-ratelimit-limit-tokens: 10000\nx-ratelimit-remaining-tokens: " . (10000 - $::U - $::E)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: the third request uses the budget up; after a reload the fourth is refused
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 0
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: reloaded: the budget is still used up
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 429
--- response_headers_like
x-ratelimit-limit-requests: 3
x-ratelimit-remaining-requests: 0
Retry-After: [1-9][0-9]*
--- response_body_like: Budget \\"team\\" is exhausted \(requests\)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: a reload that raises the limits keeps what was used
--- http_config
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=10/d tokens=20000/d name=team;
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-requests: 10\nx-ratelimit-remaining-requests: 6\n"
. "x-ratelimit-limit-tokens: 20000\nx-ratelimit-remaining-tokens: " . (20000 - 3 * $::U - $::E)
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: a budget of another name starts afresh, in a location of its own
--- http_config
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=10/d tokens=20000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /other/ {
    llm_budget key=all requests=10/d name=other;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ "POST /other/chat/completions\n$::B", "POST /v1/chat/completions\n$::B" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-requests: 10\nx-ratelimit-remaining-requests: 9\nx-ratelimit-limit-tokens:",
  "x-ratelimit-limit-requests: 10\nx-ratelimit-remaining-requests: 5\nx-ratelimit-remaining-tokens: " . (20000 - 4 * $::U - $::E) ]
--- no_error_log
[error]
[alert]
[crit]
