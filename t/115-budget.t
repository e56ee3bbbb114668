# llm_budget: token, request and cost limits per key and window.
#
# A request reserves an upper bound before it is proxied (its body bytes,
# every byte counted as a token, plus max(max_tokens,
# max_completion_tokens), 4096 when both are absent, 0 for embeddings;
# priced at the dearest target of its route for cost budgets), and the
# real usage replaces the reservation when it ends.  A request over a
# budget gets 429 in its API's error format with Retry-After; every
# response under a budget carries OpenAI's x-ratelimit-{limit,remaining,
# reset}-{tokens,requests} of the tightest budget, where "remaining" is
# what is left once this request's reservation is taken.
#
# The budget's state is read back through those headers: a request's
# x-ratelimit-remaining-tokens is limit - (real usage of the requests
# before it) - (its own reservation), which the blocks compute exactly.
#
# Concurrency.  Test::Nginx sends one request at a time, so concurrent
# requests are made by nginx itself: a location with 64 "mirror"
# directives, each mirror subrequest a proxy_pass to the gateway with the
# client's body (mirror_request_body is on by default), against a mock
# provider that answers after 300 ms, so that all of them are in flight
# together.  The gateway's access log, read back with a last request to
# "location = /burstlog { alias logs/burst.log; }" (alias and access_log
# paths are relative to the nginx prefix, the server root, in both the
# original Test::Nginx and t/lib's), has one line per mirrored request.
#
# The same trick sends requests whose answers the client must not see (a
# stream cut by the provider) and fills the zone with many keys at once.
# Multi-request blocks assert log lines the same way: the gateway location
# has "error_log logs/budget.log warn;" (its requests' messages go there)
# and a last request fetches it: "--- error_log" cannot be given per
# request.

use Test::Nginx::Socket 'no_plan';

use POSIX ();

no_shuffle();
worker_connections(1024);

# Budgets live in the shared zone: every block gets its own nginx, even
# where two configurations would be alike.
add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

# One chat request, its reservation, and its real usage (mock
# prompt_tokens=10 completion_tokens=20).
our $B = '{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';
our $E = length($B) + 100;
our $U = 30;
our $BS = '{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}';

# The bodies of some blocks (the sections of a block are evaluated in no
# fixed order, so what several of them use is set here).
our @RESERVE = (
    ['/v1/chat/completions', '{"model":"m1","max_tokens":100,"max_completion_tokens":300,"messages":[]}', 300],
    ['/v1/chat/completions', '{"model":"m2","max_completion_tokens":50,"max_tokens":20,"messages":[]}', 50],
    ['/v1/chat/completions', '{"model":"m3","messages":[]}', 4096],
    ['/v1/completions', '{"model":"m4","prompt":"x"}', 4096],
    ['/v1/responses', '{"model":"m5","input":"x"}', 4096],
    ['/v1/embeddings', '{"model":"m6","input":"hello world"}', 0],
    ['/v1/chat/completions', '{"model":"m7","max_tokens":0,"messages":[]}', 0],
    ['/v1/chat/completions', '{"model":"m8","max_tokens":"100","messages":[]}', 4096],
    ['/v1/messages', '{"model":"claude","max_tokens":64,"messages":[]}', 64],
    # a body in a temporary file (client_body_buffer_size 1k)
    ['/small/chat/completions', '{"model":"m9","max_tokens":10,"messages":[{"role":"user","content":"'
                                . ('long text ' x 2000) . '"}]}', 10],
);
our $B_RESPONSES = '{"model":"r","input":"x","max_output_tokens":10000}';
our $B_N = '{"model":"n","max_tokens":100,"n":3,"messages":[]}';
our $B_COST = '{"model":"gpt","max_tokens":1,"messages":[]}';
our $N_COST = int((100 - (length($B_COST) + 1)) / 2) + 1;     # requests that pass
our $B_CUT = '{"model":"broken","stream":true,"max_tokens":100,"messages":[]}';
our $B_GOOD = '{"model":"good","max_tokens":100,"messages":[]}';
our $B_BURST = '{"model":"m","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}';
die "the body of the burst must be 75 bytes" unless length $B_BURST == 75;

our $RESET = '(?:[0-9]+h)?(?:[0-9]+m)?[0-9]+s';

# Durations as in x-ratelimit-reset-*: "1h2m3s", "5m0s", "59s", "1h0s".
sub dur {
    my $s = shift;
    my $out = '';
    if ($s >= 3600) { $out .= int($s / 3600) . 'h'; $s %= 3600; }
    if ($s >= 60) { $out .= int($s / 60) . 'm'; $s %= 60; }
    return $out . $s . 's';
}

# What x-ratelimit-reset-tokens may be for a window (seconds, or "mo")
# when the block runs.  The blocks are read when run_tests() starts, so
# the block that uses this comes first, and up to 60 s may have passed
# (for a fixed window, possibly into the next window).
sub reset_re {
    my $w = shift;
    my $now = time;
    my @ok;
    if ($w eq 'mo') {
        my @t = gmtime $now;
        my ($y, $m) = ($t[5] + 1900, $t[4] + 1);    # next month, 0-based
        ($y, $m) = ($y + 1, 0) if $m == 12;
        local $ENV{TZ} = 'UTC';
        POSIX::tzset();
        my $r = POSIX::mktime(0, 0, 0, 1, $m, $y - 1900) - $now;
        POSIX::tzset();
        @ok = grep { $_ >= 1 } $r - 60 .. $r;
    } else {
        my $r = $w - $now % $w;
        @ok = grep { ($r - $_) % $w <= 60 } 1 .. $w;
    }
    return '(?:' . join('|', map { dur($_) } @ok) . ')';
}

our $MIRRORS = join "\n", map { "    mirror /burst;" } 1 .. 64;
our $FILL = join "\n", map { "    mirror /fill/$_;" } 1 .. 150;

add_block_preprocessor(sub {
    my $block = shift;
    my $c = $block->config // return;
    $c =~ s/^\s*MIRRORS_64$/$MIRRORS/m;
    $c =~ s/^\s*MIRRORS_FILL$/$FILL/m;
    $block->set_value(config => $c);
});

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
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
});

run_tests();

__DATA__

=== TEST 1: windows s, m, h, d, mo (UTC): x-ratelimit-reset-* counts down to the window's end
--- config
location /s/ {
    llm_budget key=30s tokens=1000000/30s;
    include ../../../conf/llm_params;
}
location /m/ {
    llm_budget key=5m tokens=1000000/5m;
    include ../../../conf/llm_params;
}
location /h/ {
    llm_budget key=2h tokens=1000000/2h;
    include ../../../conf/llm_params;
}
location /d/ {
    llm_budget key=d tokens=1000000/d;
    include ../../../conf/llm_params;
}
location /mo/ {
    llm_budget key=mo tokens=1000000/mo;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /$_/chat/completions\n$::B" } qw(s m h d mo) ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 1000000\nx-ratelimit-remaining-tokens: " . (1000000 - $::E)
        . "\nx-ratelimit-reset-tokens: " . main::reset_re($_) }
  30, 300, 7200, 86400, 'mo' ]
--- no_error_log
[error]
[warn]



=== TEST 2: a token budget: the reservation, then the real usage; streams too
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=team-a tokens=10000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ (map { "POST /v1/chat/completions\n$::B" } 1 .. 3), "POST /v1/chat/completions\n$::BS" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers_like eval
[ (map { "x-ratelimit-limit-tokens: 10000\n"
         . "x-ratelimit-remaining-tokens: " . (10000 - $_ * $::U - $::E) . "\n"
         . "x-ratelimit-reset-tokens: $::RESET\n"
         . "x-ratelimit-limit-requests:\nx-ratelimit-remaining-requests:\nRetry-After:" } 0 .. 2),
  "Content-Type: text/event-stream\nx-ratelimit-limit-tokens: 10000\n"
  . "x-ratelimit-remaining-tokens: " . (10000 - 3 * $::U - length($::BS) - 100) ]
--- no_error_log
[error]
[warn]



=== TEST 3: the reservation: max(max_tokens, max_completion_tokens); 4096 without; 0 for embeddings
Per-model budgets (key=$llm_model): each request starts from a full budget.
The last body, 20 KB with client_body_buffer_size 1k, is read from a
temporary file (nginx logs "a client request body is buffered to a
temporary file").
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route default a;
llm_route claude c;
llm_budget key=$llm_model tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /small/ {
    client_body_buffer_size 1k;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
location /mock/c/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
[ map { "POST $_->[0]\n$_->[1]" } @::RESERVE ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ map { 200 } @::RESERVE ]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 100000\nx-ratelimit-remaining-tokens: " . (100000 - length($_->[1]) - $_->[2]) } @::RESERVE ]
--- no_error_log
[error]
[crit]



=== TEST 4: the Responses API bounds its answer with max_output_tokens: the reservation uses it
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$llm_model tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
"POST /v1/responses\n$::B_RESPONSES"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-tokens: 100000\nx-ratelimit-remaining-tokens: " . (100000 - length($::B_RESPONSES) - 10000)
--- no_error_log
[error]
[warn]



=== TEST 5: n choices: the completion bound is n x max_tokens
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$llm_model tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
"POST /v1/chat/completions\n$::B_N"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-tokens: 100000\nx-ratelimit-remaining-tokens: " . (100000 - length($::B_N) - 300)
--- no_error_log
[error]
[warn]



=== TEST 6: over a token budget: 429 in OpenAI format, Retry-After, x-ratelimit-*; the provider is not called
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=team-a tokens=500/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":1000,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 429
--- response_headers_like eval
"Content-Type: application/json\nRetry-After: [1-9][0-9]*\nx-ratelimit-limit-tokens: 500\nx-ratelimit-remaining-tokens: 500\nx-ratelimit-reset-tokens: $::RESET\nx-ratelimit-limit-requests:"
--- response_body_like
^\{"error":\{"message":"Budget \\"team\\" is exhausted \(tokens\); retry in [0-9]+ s","type":"rate_limit_error","param":null,"code":"budget_exceeded"\}\}$
--- no_access_log
/mock/a/v1/
--- no_error_log
[error]
[warn]



=== TEST 7: over a token budget on /v1/messages: 429 in Anthropic format
--- http_config
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route default c;
llm_budget key=team-a tokens=500/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock; }
--- request
POST /v1/messages
{"model":"claude-sonnet-4","max_tokens":1000,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 429
--- response_headers_like eval
"Content-Type: application/json\nRetry-After: [1-9][0-9]*\nx-ratelimit-limit-tokens: 500\nx-ratelimit-remaining-tokens: 500\nx-ratelimit-reset-tokens: $::RESET"
--- response_body_like
^\{"type":"error","error":\{"type":"rate_limit_error","message":"Budget \\"team\\" is exhausted \(tokens\); retry in [0-9]+ s"\}\}$
--- no_access_log
/mock/c/v1/
--- no_error_log
[error]
[warn]



=== TEST 8: a request budget: 2 a day, the third is refused
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$llm_model requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 429]
--- response_headers_like eval
[ "x-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 1\nx-ratelimit-reset-requests: $::RESET\nx-ratelimit-limit-tokens:\nRetry-After:",
  "x-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 0\nx-ratelimit-reset-requests: $::RESET\nx-ratelimit-limit-tokens:\nRetry-After:",
  "x-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 0\nx-ratelimit-reset-requests: $::RESET\nx-ratelimit-limit-tokens:\nRetry-After: [1-9][0-9]*" ]
--- response_body_like eval
[ qr/"object":"chat\.completion"/, qr/"object":"chat\.completion"/,
  qr/\A\{"error":\{"message":"Budget \\"\$llm_model\\" is exhausted \(requests\); retry in [0-9]+ s","type":"rate_limit_error","param":null,"code":"budget_exceeded"\}\}\n\z/ ]
--- no_error_log
[error]
[warn]



=== TEST 9: a cost budget is charged the real cost: 0.46 USD reserved, 0.02 USD charged per request
Prices of 10000 USD per 1M tokens make a token cost 0.01 USD; the mock
answers 1 + 1 tokens.  While used + 0.46 <= 1.00 a request passes.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=10000 output=10000;
llm_budget key=team-a cost=1/d name=spend;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B_COST" } 1 .. $::N_COST + 1 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } 1 .. $::N_COST), 429 ]
--- response_headers_like eval
[ (map { "x-ratelimit-limit-tokens:\nx-ratelimit-limit-requests:\nRetry-After:" } 1 .. $::N_COST),
  "x-ratelimit-limit-tokens:\nx-ratelimit-limit-requests:\nRetry-After: [1-9][0-9]*" ]
--- response_body_like eval
[ (map { qr/"object":"chat\.completion"/ } 1 .. $::N_COST),
  qr/\A\{"error":\{"message":"Budget \\"spend\\" is exhausted \(cost\); retry in [0-9]+ s","type":"rate_limit_error","param":null,"code":"budget_exceeded"\}\}\n\z/ ]
--- no_error_log
[error]
[warn]



=== TEST 10: a cost reservation is priced at the dearest target of the route
a alone fits the budget; a with b as its backup does not.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-b;
llm_route cheap a;
llm_route safe a b;
llm_price a:* input=1 output=1;
llm_price b:* input=100 output=100;
llm_budget key=$llm_model cost=0.001/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
[ qq{POST /v1/chat/completions\n{"model":"cheap","max_tokens":100,"messages":[]}},
  qq{POST /v1/chat/completions\n{"model":"safe","max_tokens":100,"messages":[]}} ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 429]
--- response_body_like eval
[ qr/"model":"cheap"/, qr/is exhausted \(cost\)/ ]
--- no_error_log
[error]
[warn]



=== TEST 11: several budgets: the headers show the tightest; a refusal by one charges no other
org: 100000 tokens; user ($arg_user): 5000 tokens and 2 requests.  The
third request of u1 is refused by user's request limit: org's tokens,
checked and found free before, are not taken (request 4, without a user,
sees org with the 2 x 30 tokens of the requests served only).
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=org tokens=100000/d name=org;
llm_budget key=$arg_user tokens=5000/d requests=2/d name=user;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ (map { "POST /v1/chat/completions?user=u1\n$::B" } 1 .. 3), "POST /v1/chat/completions\n$::B" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 429, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-tokens: 5000\nx-ratelimit-remaining-tokens: " . (5000 - $::E) . "\nx-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 1",
  "x-ratelimit-limit-tokens: 5000\nx-ratelimit-remaining-tokens: " . (5000 - $::U - $::E) . "\nx-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 0",
  "x-ratelimit-limit-tokens:\nx-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 0\nRetry-After: [1-9][0-9]*",
  "x-ratelimit-limit-tokens: 100000\nx-ratelimit-remaining-tokens: " . (100000 - 2 * $::U - $::E) . "\nx-ratelimit-limit-requests:" ]
--- response_body_like eval
[ qr/"object":"chat\.completion"/, qr/"object":"chat\.completion"/,
  qr/Budget \\"user\\" is exhausted \(requests\)/, qr/"object":"chat\.completion"/ ]
--- no_error_log
[error]
[warn]



=== TEST 12: dry_run: a request over the budget is logged and let through
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=team-a tokens=10/d name=trial dry_run;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
x-ratelimit-limit-tokens: 10
x-ratelimit-remaining-tokens: 0
Retry-After:
--- response_body_like: "object":"chat\.completion"
--- error_log
budget "trial" (tokens) would reject the request, dry run
--- no_error_log
[error]



=== TEST 13: dry_run next to a real budget: the real one refuses, the dry one only logs
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=team-a requests=2/d name=real;
llm_budget key=team-a requests=1/d name=trial dry_run;
--- config
location /v1/ {
    error_log logs/budget.log warn;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location = /budgetlog { alias logs/budget.log; }
--- request eval
[ (map { "POST /v1/chat/completions\n$::B" } 1 .. 3), "GET /budgetlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 429, 200]
--- response_body_like eval
[ qr/"object":"chat\.completion"/, qr/"object":"chat\.completion"/, qr/Budget \\"real\\" is exhausted \(requests\)/,
  qr/\A(?:(?!would reject)[^\n]*\n)*[^\n]*budget "trial" \(requests\) would reject the request, dry run[^\n]*\n(?:(?!would reject)[^\n]*\n)*\z/ ]
--- no_error_log
[error]



=== TEST 14: inheritance: a level with its own llm_budget replaces the outer ones
http: requests (outer); server: none; /in/ inherits; /own/ has a token
budget only; /srv/ in a second server with its own server-level budget.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=100/d name=outer;
--- config
location /in/ {
    include ../../../conf/llm_params;
}
location /own/ {
    llm_budget key=all tokens=7000/d name=inner;
    include ../../../conf/llm_params;
}
location /none/ {
    llm_budget key=$arg_never tokens=7000/d name=off;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /$_/chat/completions\n$::B" } qw(in own in none) ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-requests: 100\nx-ratelimit-remaining-requests: 99\nx-ratelimit-limit-tokens:",
  "x-ratelimit-limit-tokens: 7000\nx-ratelimit-remaining-tokens: " . (7000 - $::E) . "\nx-ratelimit-limit-requests:",
  "x-ratelimit-limit-requests: 100\nx-ratelimit-remaining-requests: 98\nx-ratelimit-limit-tokens:",
  "x-ratelimit-limit-requests:\nx-ratelimit-limit-tokens:" ]
--- no_error_log
[error]
[warn]



=== TEST 15: a server-level budget applies to its locations and replaces the http one
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=100/d name=outer;
--- config
llm_budget key=all requests=5/d name=server;
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
x-ratelimit-limit-requests: 5
x-ratelimit-remaining-requests: 4
--- no_error_log
[error]
[warn]



=== TEST 16: no provider served, nothing is charged: 502 (all failed) and a 400 passed through release the reservation
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream x host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/x/v1 key=sk-x max_fails=100;
llm_upstream y host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/y/v1 key=sk-y;
llm_route bad x;
llm_route invalid y;
llm_route good a;
llm_budget key=all requests=1/d tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /mock/x/v1/ { llm_mock status=503; }
location /mock/y/v1/ { llm_mock status=400; }
--- request eval
[ map { qq{POST /v1/chat/completions\n{"model":"$_","max_tokens":100,"messages":[]}} } qw(bad invalid good good) ]
--- more_headers
Content-Type: application/json
--- error_code eval
[502, 400, 200, 429]
--- response_headers_like eval
[ (map { "x-ratelimit-remaining-requests: 0\nx-ratelimit-remaining-tokens: "
          . (100000 - length(qq{{"model":"$_","max_tokens":100,"messages":[]}}) - 100) } qw(bad invalid good)),
  "x-ratelimit-remaining-requests: 0\nx-ratelimit-limit-tokens:" ]
--- no_error_log
[alert]
[crit]



=== TEST 17: a 2xx answer without usage is charged its whole reservation, and logged
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock no_usage; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-remaining-tokens: " . (100000 - $_ * $::E) } 1 .. 3 ]
--- error_log
no usage in the answer of provider "a", the reservation is charged
--- no_error_log
[error]



=== TEST 18: a stream the provider cuts is charged its whole reservation
The cut stream is sent by a mirror subrequest (the client would see a
broken chunked answer); proxy_store makes it read the answer to its end.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream cut host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/cut/v1 key=sk-c;
llm_route good a;
llm_route broken cut;
llm_budget key=all tokens=100000/d;
--- config
location /v1/ {
    error_log logs/budget.log warn;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /mock/cut/v1/ { llm_mock cut=2 "content=one two three four"; }
location = /fire {
    mirror /cutm;
    llm_mock echo=body;
}
location = /cutm {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/chat/completions;
    proxy_store on;
}
location = /budgetlog { alias logs/budget.log; }
--- request eval
[ "POST /fire\n$::B_CUT", "POST /v1/chat/completions\n$::B_GOOD", "GET /budgetlog" ]
--- more_headers
Content-Type: application/json
--- wait: 0.3
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-tokens:",
  "x-ratelimit-remaining-tokens: " . (100000 - (length($::B_CUT) + 100) - (length($::B_GOOD) + 100)),
  "" ]
--- response_body_like eval
[ qr/"model":"broken"/, qr/"model":"good"/,
  qr/no usage in the answer of provider "cut", the reservation is charged/ ]
--- no_error_log
[alert]
[crit]



=== TEST 19: a request whose client goes away before the answer is charged nothing
The first request is a mirror subrequest whose proxy_read_timeout (100ms)
ends before the provider's 1 s delay: the gateway sees its client leave.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream slow host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/slow/v1 key=sk-s;
llm_route good a;
llm_route late slow;
llm_budget key=all requests=1/d tokens=100000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /mock/slow/v1/ { llm_mock delay=1s; }
location = /fire {
    mirror /gone;
    llm_mock echo=body;
}
location = /gone {
    internal;
    proxy_read_timeout 100ms;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/chat/completions;
}
--- request eval
[ qq{POST /fire\n{"model":"late","max_tokens":100,"messages":[]}}, "POST /v1/chat/completions\n$::B_GOOD" ]
--- more_headers
Content-Type: application/json
--- wait: 0.3
--- error_code eval
[200, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-tokens:",
  "x-ratelimit-remaining-requests: 0\nx-ratelimit-remaining-tokens: " . (100000 - length($::B_GOOD) - 100) ]
--- response_body_like eval
[ qr/"model":"late"/, qr/"model":"good"/ ]
--- no_error_log
[alert]
[crit]



=== TEST 20: windows roll over: a 1 s budget is whole again a second later
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all tokens=1000/1s requests=1/1s;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 2 ]
--- more_headers
Content-Type: application/json
--- wait: 1.1
--- error_code eval
[200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-remaining-tokens: " . (1000 - $::E) . "\nx-ratelimit-remaining-requests: 0\nx-ratelimit-reset-tokens: 1s\nx-ratelimit-reset-requests: 1s" } 1 .. 2 ]
--- no_error_log
[error]
[warn]



=== TEST 21: per-tenant budgets with $llm_tenant (llm_client_keys)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_client_keys ../html/keys.txt;
llm_budget key=$llm_tenant requests=1/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-team-red-0001 red
sk-team-blue-0002 blue
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers eval
[ "Content-Type: application/json\nAuthorization: Bearer sk-team-red-0001",
  "Content-Type: application/json\nAuthorization: Bearer sk-team-red-0001",
  "Content-Type: application/json\nAuthorization: Bearer sk-team-blue-0002" ]
--- error_code eval
[200, 429, 200]
--- response_body_like eval
[ qr/"object":"chat\.completion"/, qr/Budget \\"\$llm_tenant\\" is exhausted \(requests\)/, qr/"object":"chat\.completion"/ ]
--- no_error_log
[error]



=== TEST 22: 64 concurrent requests never push a token budget past its limit
Each request reserves B + 1000 tokens and is charged exactly that much
(mock prompt_tokens = B, completion_tokens = max_tokens), so the budget,
9 reservations and 100 tokens, takes 9 of the 64 in flight together,
whatever their order: without the reservation all 64 would pass the
check before any is charged.  The 65th request, sent after, sees the 100
tokens left.
--- http_config
log_format burst '$status $llm_total_tokens';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all tokens=9775/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/burst.log burst;
}
location /check/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock delay=300ms prompt_tokens=75 completion_tokens=1000; }
location = /fire {
    MIRRORS_64
    llm_mock echo=body;
}
location = /burst {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/chat/completions;
}
location = /burstlog { alias logs/burst.log; }
--- request eval
[ "POST /fire\n$::B_BURST", "POST /check/chat/completions\n$::B_BURST", "GET /burstlog" ]
--- more_headers
Content-Type: application/json
--- wait: 0.45
--- error_code eval
[200, 429, 200]
--- response_headers_like eval
[ "", "x-ratelimit-limit-tokens: 9775\nx-ratelimit-remaining-tokens: 100\nRetry-After: [1-9][0-9]*", "" ]
--- response_body_like eval
[ qr/\A\Q$::B_BURST\E\z/,
  qr/Budget \\"team\\" is exhausted \(tokens\)/,
  qr/\A(?=(?:[^\n]*\n){64}\z)(?:429 -\n)*(?:200 1075\n(?:429 -\n)*){9}\z/ ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 23: 64 concurrent requests against a request budget: exactly the limit passes
--- http_config
log_format burst '$status';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=10/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/burst.log burst;
}
location /mock/a/v1/ { llm_mock delay=300ms; }
location = /fire {
    MIRRORS_64
    llm_mock echo=body;
}
location = /burst {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/v1/chat/completions;
}
location = /burstlog { alias logs/burst.log; }
--- request eval
[ "POST /fire\n$::B", "GET /burstlog" ]
--- more_headers
Content-Type: application/json
--- wait: 0.45
--- error_code eval
[200, 200]
--- response_body_like eval
[ qr/\A\Q$::B\E\z/,
  qr/\A(?=(?:[^\n]*\n){64}\z)(?:429\n)*(?:200\n(?:429\n)*){10}\z/ ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 24: a full zone evicts the least recently used counters, logs it, and fails no request
An old key is used, then 150 others at once (mirrors) fill the 32k zone:
the old key's counter is evicted (its budget starts again) while the
requests go on; the evictions are logged once (a warning a minute).
--- http_config
llm_zone z 32k;
log_format fill '$status';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$arg_k requests=1/d;
--- config
location /v1/ {
    error_log logs/budget.log warn;
    include ../../../conf/llm_params;
}
location /fillv1/ {
    error_log logs/budget.log warn;
    include ../../../conf/llm_params;
    access_log logs/fill.log fill;
}
location /mock/a/v1/ { llm_mock; }
location = /fire {
    MIRRORS_FILL
    llm_mock echo=body;
}
location ~ ^/fill/(\d+)$ {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/fillv1/chat/completions?k=key$1;
}
location = /filllog { alias logs/fill.log; }
location = /budgetlog { alias logs/budget.log; }
--- request eval
[ "POST /v1/chat/completions?k=old\n$::B",
  "POST /v1/chat/completions?k=old\n$::B",
  "POST /fire\n$::B",
  "POST /v1/chat/completions?k=old\n$::B",
  "POST /v1/chat/completions?k=old\n$::B",
  "GET /filllog",
  "GET /budgetlog" ]
--- more_headers
Content-Type: application/json
--- wait: 0.2
--- error_code eval
[200, 429, 200, 200, 429, 200, 200]
--- response_body_like eval
[ qr/"object":"chat\.completion"/, qr/is exhausted \(requests\)/, qr/\A\Q$::B\E\z/,
  qr/"object":"chat\.completion"/, qr/is exhausted \(requests\)/,
  qr/\A(?:200\n){150}\z/,
  qr/\A(?s:(?!.*is full.*is full).*llm_zone "z" is full, evicted the least recently used counters "[^"\n]+" \(and 0 more since the last such warning\))/ ]
--- no_error_log
[alert]
[crit]



=== TEST 25: the most recently used counters survive an eviction, even when every key is long
A budget on every request (org, 1000 requests) and one per user with
keys of 1000 bytes, which fill the 32k zone within a few requests: org is
used by every request, so it is never the least recently used, and its
count goes on.
--- http_config
llm_zone z 32k;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=all requests=1000/d name=org;
llm_budget key=$arg_k tokens=1000000/d name=user;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
[ map { "POST /v1/chat/completions?k=" . ($_ x 1000) . "\n$::B" } 'a' .. 't' ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ map { 200 } 1 .. 20 ]
--- response_headers_like eval
[ map { "x-ratelimit-limit-requests: 1000\nx-ratelimit-remaining-requests: " . (999 - $_) } 0 .. 19 ]
--- no_error_log
[alert]
[crit]



=== TEST 26: two budgets of one name with other limits are refused
/day/ and /sec/ both have an unnamed budget on $arg_t ("$arg_t" is its
name) with other windows and limits.  Budgets of one name share their
counters, so a request to /sec/ would reset what /day/ has counted:
nginx -t refuses it and says where the other one is.
--- config
location /day/ {
    llm_budget key=$arg_t tokens=1000/d;
    include ../../../conf/llm_params;
}
location /sec/ {
    llm_budget key=$arg_t tokens=1000000/1s;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_budget "\$arg_t" has other limits in \S+/nginx\.conf:\d+; budgets of one name share their counters, use name= to tell them apart in \S+/nginx\.conf:\d+}



=== TEST 26b: the same budget (same name, same limits) in two locations shares its counters
--- config
location /day/ {
    llm_budget key=$arg_t tokens=1000/d;
    include ../../../conf/llm_params;
}
location /also/ {
    llm_budget key=$arg_t tokens=1000/d;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=70 completion_tokens=100; }
--- request eval
[ map { "POST /$_/chat/completions?t=red\n$::B" } qw(day also day) ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ "x-ratelimit-limit-tokens: 1000\nx-ratelimit-remaining-tokens: " . (1000 - $::E),
  "x-ratelimit-limit-tokens: 1000\nx-ratelimit-remaining-tokens: " . (1000 - 170 - $::E),
  "x-ratelimit-limit-tokens: 1000\nx-ratelimit-remaining-tokens: " . (1000 - 340 - $::E) ]
--- no_error_log
[alert]
[crit]



=== TEST 27: valid llm_budget forms are accepted, at every level
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$remote_addr tokens=1/s requests=2/30s cost=0.000000001/m;
llm_budget key=$remote_addr tokens=1000000000000/h name=b2 dry_run;
llm_budget key=x$http_x_team requests=5/7d cost=1.123456789/mo name=b3;
llm_budget name=b4 dry_run key=$remote_addr requests=10/12h;
llm_budget key=k cost=100/2d name=b5;
--- config
llm_budget key=s requests=1/90s;
location /v1/ {
    llm_budget key=l tokens=1000/d;
    llm_budget key=l requests=1000/d name=second;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=1; }
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers eval
"x-ratelimit-limit-tokens: 1000\nx-ratelimit-remaining-tokens: " . (1000 - $::E) . "\nx-ratelimit-limit-requests: 1000\nx-ratelimit-remaining-requests: 999"
--- no_error_log
[error]
[emerg]



=== TEST 28: llm_budget without key=
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget tokens=100/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_budget needs "key=" in \S+/nginx\.conf:27$}



=== TEST 29: llm_budget with an empty key=
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key= tokens=100/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "key=" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 30: llm_budget without a limit
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
--- config
location /v1/ {
    llm_budget key=$remote_addr dry_run;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_budget "\$remote_addr" needs "tokens=", "requests=" or "cost=" in \S+/nginx\.conf:\d+$}



=== TEST 31: llm_budget without a limit, named
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr name=team;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_budget "team" needs "tokens=", "requests=" or "cost="}



=== TEST 32: llm_budget: an unknown variable in key=
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$no_such_var tokens=100/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown "no_such_var" variable}



=== TEST 33: llm_budget: two budgets of one name on one level
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=a tokens=100/d name=team;
llm_budget key=b requests=100/d name=team;
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate llm_budget "team", use name= to tell them apart in \S+/nginx\.conf:28$}



=== TEST 34: llm_budget: two unnamed budgets of one key on one level
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
--- config
location /v1/ {
    llm_budget key=$remote_addr tokens=100/d;
    llm_budget key=$remote_addr requests=100/d;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate llm_budget "\$remote_addr", use name= to tell them apart}



=== TEST 35: llm_budget: at most 16 on one level
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=k tokens=1/d name=b1;
llm_budget key=k tokens=1/d name=b2;
llm_budget key=k tokens=1/d name=b3;
llm_budget key=k tokens=1/d name=b4;
llm_budget key=k tokens=1/d name=b5;
llm_budget key=k tokens=1/d name=b6;
llm_budget key=k tokens=1/d name=b7;
llm_budget key=k tokens=1/d name=b8;
llm_budget key=k tokens=1/d name=b9;
llm_budget key=k tokens=1/d name=b10;
llm_budget key=k tokens=1/d name=b11;
llm_budget key=k tokens=1/d name=b12;
llm_budget key=k tokens=1/d name=b13;
llm_budget key=k tokens=1/d name=b14;
llm_budget key=k tokens=1/d name=b15;
llm_budget key=k tokens=1/d name=b16;
llm_budget key=k tokens=1/d name=b17;
--- must_die
--- error_log eval
qr{\[emerg\] .*too many llm_budget directives on one level in \S+/nginx\.conf:43$}



=== TEST 36: llm_budget: no arguments
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid number of arguments in "llm_budget" directive}



=== TEST 37: llm_budget: a limit that is no number (tokens=abc/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=abc/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=abc\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 38: llm_budget: a limit without a window (tokens=10)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 39: llm_budget: an empty window (tokens=10/)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 40: llm_budget: an empty number (tokens=/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 41: llm_budget: a zero limit (tokens=0/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=0/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=0\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 42: llm_budget: decimals in a token limit (tokens=1.5/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=1.5/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=1\.5\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 43: llm_budget: decimals in a request limit (requests=2.0/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr tokens=5/d requests=2.0/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "requests=2\.0\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 44: llm_budget: a negative limit (requests=-1/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr tokens=5/d requests=-1/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "requests=\-1\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 45: llm_budget: a limit too large (tokens=10000000000000/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10000000000000/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10000000000000\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 46: llm_budget: an unknown window unit (tokens=10/x)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/x;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/x" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 47: llm_budget: a zero window (tokens=10/0m)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/0m;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/0m" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 48: llm_budget: a negative window (tokens=10/-1s)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/-1s;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/\-1s" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 49: llm_budget: decimals in a window (tokens=10/1.5h)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/1.5h;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/1\.5h" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 50: llm_budget: the count after the unit (tokens=10/m5)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/m5;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/m5" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 51: llm_budget: a count of months (tokens=10/2mo)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/2mo;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/2mo" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 52: llm_budget: milliseconds (tokens=10/ms)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d tokens=10/ms;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=10\/ms" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 53: llm_budget: a zero cost (cost=0/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d cost=0/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cost=0\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 54: llm_budget: a cost with 10 decimals (cost=0.0000000001/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d cost=0.0000000001/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cost=0\.0000000001\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 55: llm_budget: a cost with a dot and no decimals (cost=1./d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d cost=1./d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cost=1\.\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 56: llm_budget: a negative cost (cost=-1/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d cost=-1/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cost=\-1\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 57: llm_budget: a decimal comma (cost=1,5/d)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d cost=1,5/d;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cost=1,5\/d" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 58: llm_budget: dry_run with a value (dry_run=on)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d dry_run=on;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "dry_run=on" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 59: llm_budget: an unknown parameter (foo=1)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d foo=1;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "foo=1" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 60: llm_budget: an empty name (name=)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr requests=5/d name=;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "name=" in llm_budget in \S+/nginx\.conf:27$}



=== TEST 61: llm_budget: the same limit twice
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_budget key=$remote_addr tokens=100/d tokens=200/h;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tokens=200\/h" in llm_budget in \S+/nginx\.conf:27$}
