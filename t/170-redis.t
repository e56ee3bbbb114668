# llm_redis: budgets on a Redis shared by a fleet of nginx nodes.
#
# The file starts its own redis-server (Debian's redis-server package) on
# 127.0.0.1 at TEST_NGINX_PORT + 1 (TEST_NGINX_REDIS_PORT in the
# configurations), without persistence, before the blocks run, and kills
# it when the file ends (t/redis.pl: END block, also on INT/TERM).
# Parallel runs with their own TEST_NGINX_PORT do not collide.  The Redis keys of each block
# are its own (budget names and keys differ), so no block sees another's.
#
# What Redis holds is read back through the responses' x-ratelimit-*
# headers: remaining = limit - used - reserved - this request's bound, so
# a settle that left something reserved would show.

use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $P = $ENV{TEST_NGINX_PORT} || 1984;
our $RPORT = $P + 1;
our $DIR = "/tmp/llm-redis-$P";
our $PASS = 'n0t-in-logs';
# Redis also on a unix socket (TEST 15); workers may run as nobody
our @REDIS_ARGS = ('--unixsocket', "$DIR/redis.sock", '--unixsocketperm', '777');
$ENV{TEST_NGINX_REDIS_SOCKET} = "$DIR/redis.sock";
$ENV{TEST_NGINX_REDIS_PORT} = $RPORT;
# nothing listens there: TEST_NGINX_PORT + 9 is kept free
$ENV{TEST_NGINX_REDIS_NONE} = $RPORT + 8;
$ENV{TEST_NGINX_REDIS_PASSWORD} = $PASS;

require './t/redis.pl';
redis_setup();

# TEST 15's budget has one request used already, in Redis only: a node
# that did not read it from Redis would serve two
{
    my $t = time;
    redis_cmd('HSET', 'llm:b:u15:requests:' . ($t - $t % 86400) . ':t15',
              'used', 1);
}

our $B = '{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';
our $E = length($B) + 100;
our $U = 30;

run_tests();

__DATA__

=== TEST 1: llm_redis: a bad address
--- http_config
llm_redis 127.0.0.1:notaport;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid port in llm_redis "127\.0\.0\.1:notaport" in \S+/nginx\.conf:25$}



=== TEST 2: llm_redis: an unknown parameter, a bad one
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=1s foo=bar;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "foo=bar" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 3: llm_redis: bad values
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT on_error=maybe;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "on_error=maybe" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 4: llm_redis: bad timeout, db, sync
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=x;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "db=x" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 5: llm_redis: timeout=0 is refused
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=0;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "timeout=0" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 6: llm_redis: a tls_*= parameter without tls=on (t/174 tests TLS)
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT tls_name=redis.test;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis "tls_name=redis\.test" needs "tls=on" in \S+/nginx\.conf:25$}



=== TEST 7: llm_redis: password= and password_env= together, twice
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=a password_env=B;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis takes one "password=" or "password_env=" in \S+/nginx\.conf:25$}



=== TEST 8: llm_redis: password_env= names an unset variable
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password_env=LLM_NO_SUCH_VARIABLE;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis: environment variable "LLM_NO_SUCH_VARIABLE" is not set or empty in \S+/nginx\.conf:25$}



=== TEST 9: llm_redis: duplicate
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_redis" directive is duplicate in \S+/nginx\.conf:26$}



=== TEST 10: a token budget on Redis: reservation, then the real usage
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD db=3;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t10 tokens=10000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 10000\n"
        . "x-ratelimit-remaining-tokens: " . (10000 - $_ * $::U - $::E) } 0 .. 2 ]
--- no_error_log
[error]
[warn]
n0t-in-logs



=== TEST 11: a request budget on Redis: the third request is refused
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t11 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 429]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/,
  qr/\{"error":\{"message":"Budget \\"\$llm_tenant\\"|\{"error":\{"message":"Budget \\"t11\\" is exhausted \(requests\); retry in \d+ s"/ ]
--- no_error_log
[error]
[warn]



=== TEST 12: a wrong password: one [error] line with Redis' reason; on_error=local serves this node's share
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=wrong-secret timeout=500ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t12 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /errlog { alias logs/error.log; }
--- request eval
[ (map { "POST /v1/chat/completions\n$::B" } 1 .. 3), "GET /errlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 429, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/exhausted/,
  qr/\A(?![\s\S]*is down[\s\S]*is down)[\s\S]*\[error\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is down \(AUTH refused: "WRONGPASS[^"\n]*"\), budgets enforce this node's share/ ]
--- no_error_log
wrong-secret
[alert]
[crit]



=== TEST 13: Redis unreachable, on_error=reject: 503 in the API's format, at once
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_NONE on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t13 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /free/ {
    llm_budget key=$arg_nobudget requests=1/d;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /errlog { alias logs/error.log; }
--- request eval
[ "POST /v1/chat/completions\n$::B",
  "POST /v1/messages\n" . '{"model":"m","max_tokens":10,"messages":[]}',
  "POST /free/chat/completions\n$::B",
  "GET /errlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[503, 503, 200, 200]
--- response_body_like eval
[ qr/\A\{"error":\{"message":"The budget store is unreachable; retry later","type":"[a-z_]+","param":null,"code":"budget_store_unavailable"\}\}\s*\z/,
  qr/\A\{"type":"error","error":\{"type":"[a-z_]+","message":"The budget store is unreachable; retry later"\}\}\s*\z/,
  qr/chat\.completion/,
  qr/\A(?![\s\S]*is down[\s\S]*is down)[\s\S]*\[error\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is down \(connect\(\) failed: Connection refused\), budgets reject requests/ ]
--- no_error_log
[alert]
[crit]



=== TEST 14: Redis unreachable, on_error=local: this node's share (one node known)
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_NONE;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t14 tokens=10000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 10000\n"
        . "x-ratelimit-remaining-tokens: " . (10000 - $_ * $::U - $::E) } 0 .. 2 ]
--- no_error_log
[alert]
[crit]



=== TEST 15: Redis on a unix socket: the budget is the one Redis holds
One of the two requests of the day was used already (written to Redis
by this file before the blocks ran): the first request takes the
second, the next one is refused.
--- http_config
llm_redis unix:$TEST_NGINX_REDIS_SOCKET password=$TEST_NGINX_REDIS_PASSWORD;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t15 requests=2/d name=u15;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 2 ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 429]
--- response_headers_like eval
[ "x-ratelimit-limit-requests: 2\nx-ratelimit-remaining-requests: 0", "" ]
--- response_body_like eval
[ qr/chat\.completion/,
  qr/\{"error":\{"message":"Budget \\"u15\\" is exhausted \(requests\); retry in \d+ s"/ ]
--- no_error_log
[error]
[warn]
n0t-in-logs
