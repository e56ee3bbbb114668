# llm_redis: three nginx nodes, one Redis, one set of budgets.
#
# Processes this file starts (outside the blocks, when it is loaded) and
# kills when it ends (END block, also on INT/TERM); ports derive from
# TEST_NGINX_PORT (P), so parallel runs with their own P do not collide:
#
#   P+1  redis-server (Debian's), no persistence, DEBUG enabled
#   P+3  a small HTTP control server (this file's perl, forked): the
#        blocks' requests drive it at run time through "location /ctl/"
#        of the Test::Nginx nginx: kill, start, pause (DEBUG SLEEP) Redis,
#        read Redis' counters, wait for the nodes' access logs
#   P+4, P+5  nodes 2 and 3: nginx with the router, their own conf in
#        /tmp/llm-fleet-P/nodeN, the same budgets as node 1
#
# Node 1 is Test::Nginx's nginx (P); it also serves the mock provider that
# all three nodes proxy to.  Concurrency: a location with mirrors fires 40
# requests at each node at once (see t/115-budget.t); the control server's
# /ctl/wait/N returns when the nodes' access logs hold N lines.

use Test::Nginx::Socket 'no_plan';

use Cwd ();

no_shuffle();
worker_connections(1024);

require './t/redis.pl';
fleet_setup('fleet');
our ($P, $RPORT, $PASS, $DIR, @NPORT);    # set by fleet_setup()

# GET /ctl/<what>: what the blocks need at run time (t/redis.pl)
sub control {
    return fleet_control(shift) // "unknown\n";
}

sub node_conf {
    my $n = shift;
    my $port = $NPORT[$n - 1];
    my $params = Cwd::getcwd() . '/conf/llm_params';
    return node_conf_around($n, 1024, <<"_EOC_");
    log_format burst '\$status \$llm_total_tokens';
    llm_redis 127.0.0.1:$RPORT password=$PASS timeout=3s sync=200ms;
    llm_upstream a host=127.0.0.1 port=$P tls=off path=/mock/a/v1 key=sk-a;
    llm_upstream flaky host=127.0.0.1 port=$P tls=off path=/mock/flaky/v1 key=sk-f max_fails=1 fail_timeout=30s;
    llm_upstream late host=127.0.0.1 port=$P tls=off path=/mock/flaky/v1 key=sk-f max_fails=1 fail_timeout=30s;
    llm_route default a;
    server {
        listen 127.0.0.1:$port;
        location /f1/ {
            llm_budget key=one tokens=32350/d name=fleet1;
            include $params;
            access_log $DIR/n$n.log burst;
        }
        location /c/ {
            llm_route m flaky a;
            include $params;
            add_header X-Attempts \$llm_attempts always;
        }
        location /c2/ {
            llm_route m late a;
            include $params;
            add_header X-Attempts \$llm_attempts always;
        }
        location /f3/ {
            llm_budget key=three tokens=100000000/d name=fleet3;
            include $params;
            access_log $DIR/n$n.log burst;
        }
    }
_EOC_
}

redis_setup();
node_start($_, $NPORT[$_ - 1], node_conf($_)) for 2, 3;

fleet_burst();

run_tests();

__DATA__

=== TEST 1: 3 nodes x 40 concurrent requests, one token budget: exactly 30 served, never over, nothing left reserved
Each request reserves 75 + 1000 tokens and is charged exactly that (mock
prompt_tokens=75, completion_tokens=1000); the budget, 30 x 1075 + 100,
holds 30 of the 120 whatever their order and node.  After, every node
sees the same budget: 100 tokens left, nothing reserved.
--- http_config
log_format burst '$status $llm_total_tokens';
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /f1/ {
    llm_budget key=one tokens=32350/d name=fleet1;
    include ../../../conf/llm_params;
    access_log $TEST_NGINX_FLEET_DIR/n1.log burst;
}
location /mock/a/v1/ { llm_mock delay=500ms prompt_tokens=75 completion_tokens=1000; }
location = /fire {
    MIRRORS_3x40
    llm_mock echo=body;
}
location = /m1 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/f1/chat/completions; }
location = /m2 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/f1/chat/completions; }
location = /m3 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/f1/chat/completions; }
location /n2/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/; }
location /n3/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "POST /fire\n$::B_BURST",
  "GET /ctl/wait/120",
  "POST /f1/chat/completions\n$::B_BURST",
  "POST /n2/f1/chat/completions\n$::B_BURST",
  "POST /n3/f1/chat/completions\n$::B_BURST",
  "GET /ctl/sum/llm:b:fleet1:tokens:*/res",
  "GET /ctl/sum/llm:b:fleet1:tokens:*/used",
  "GET /ctl/nodelog/2",
  "GET /ctl/nodelog/3" ]
--- more_headers
Content-Type: application/json
--- timeout: 40
--- error_code eval
[200, 200, 429, 429, 429, 200, 200, 200, 200]
--- response_headers_like eval
[ "", "",
  ("x-ratelimit-limit-tokens: 32350\nx-ratelimit-remaining-tokens: 100\nRetry-After: [1-9][0-9]*") x 3,
  "", "", "", "" ]
--- response_body_like eval
[ qr/\A\Q$::B_BURST\E\z/,
  qr/\A200 1075 x30\n429 - x90\n\z/,
  (qr/Budget \\"fleet1\\" is exhausted \(tokens\)/) x 3,
  qr/\A0\n\z/, qr/\A32250\n\z/,
  (qr/\A(?![\s\S]*\[(?:alert|crit|emerg)\])(?![\s\S]*fleet-secret)[\s\S]*\z/) x 2 ]
--- no_error_log
[error]
[alert]
[crit]
fleet-secret



=== TEST 2: Redis paused (DEBUG SLEEP 4): requests without a budget stay fast, a budgeted one falls back after timeout; afterwards nothing is lost, nothing counted twice, nothing stays reserved
The budgeted request during the pause times out (1 s), is served on
this node's share and counted locally; its reservation may still reach
Redis when it wakes up.  Once Redis answers again, the local usage is
merged and that reservation released (both once): 2 x 30 tokens used, 0
reserved, and the next request sees exactly that.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /f2/ {
    llm_budget key=two tokens=100000/d name=fleet2;
    include ../../../conf/llm_params;
    add_header X-Time $request_time;
}
location /free/ {
    include ../../../conf/llm_params;
    add_header X-Time $request_time;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
location = /errlog { alias logs/error.log; }
--- request eval
[ "POST /f2/chat/completions\n$::B_BURST",
  "GET /ctl/pause/4",
  "POST /free/chat/completions\n$::B_BURST",
  "POST /free/chat/completions\n$::B_BURST",
  "POST /f2/chat/completions\n$::B_BURST",
  "GET /ctl/ping",
  "GET /ctl/until/llm:b:fleet2:tokens:*/used/60",
  "GET /ctl/until/llm:b:fleet2:tokens:*/res/0",
  "POST /f2/chat/completions\n$::B_BURST",
  "GET /errlog" ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers_like eval
[ "x-ratelimit-remaining-tokens: " . (100000 - 1075),
  "",
  "X-Time: 0\\.\\d+", "X-Time: 0\\.\\d+",
  "X-Time: [01]\\.\\d+\nx-ratelimit-limit-tokens: 100000\nx-ratelimit-remaining-tokens: \\d+",
  "", "", "",
  "x-ratelimit-remaining-tokens: " . (100000 - 60 - 1075),
  "" ]
--- response_body_like eval
[ qr/chat\.completion/, qr/\Apaused\n\z/, qr/chat\.completion/, qr/chat\.completion/,
  qr/chat\.completion/, qr/\APONG\n\z/, qr/\A60\n\z/, qr/\A0\n\z/, qr/chat\.completion/,
  qr/\A[\s\S]*\[error\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is down \(no reply within 1000 ms\), budgets enforce this node's share[\s\S]*\[notice\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is up again, budgets are shared/ ]
--- no_error_log
[alert]
[crit]
fleet-secret



=== TEST 3: Redis killed and restarted under load: every request is served, the nodes reconnect
--- http_config
log_format burst '$status $llm_total_tokens';
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /f3/ {
    llm_budget key=three tokens=100000000/d name=fleet3;
    include ../../../conf/llm_params;
    access_log $TEST_NGINX_FLEET_DIR/n1.log burst;
}
location /mock/a/v1/ { llm_mock delay=1s prompt_tokens=75 completion_tokens=1000; }
location = /fire {
    MIRRORS_3x40
    llm_mock echo=body;
}
location = /m1 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/f3/chat/completions; }
location = /m2 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/f3/chat/completions; }
location = /m3 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/f3/chat/completions; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/truncate",
  "POST /fire\n$::B_BURST",
  "GET /ctl/kill",
  "GET /ctl/start",
  "GET /ctl/wait/120",
  "GET /ctl/ping",
  "POST /f3/chat/completions\n$::B_BURST",
  "GET /ctl/nodelog/2" ]
--- more_headers
Content-Type: application/json
--- timeout: 40
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers_like eval
[ "", "", "", "", "", "", "x-ratelimit-limit-tokens: 100000000", "" ]
--- response_body_like eval
[ qr/truncated/, qr/\A\Q$::B_BURST\E\z/, qr/killed/, qr/started/,
  qr/\A200 1075 x120\n\z/, qr/\APONG\n\z/, qr/chat\.completion/,
  qr/\A(?![\s\S]*\[(?:alert|crit|emerg)\])[\s\S]*is down[\s\S]*is up again/ ]
--- no_error_log
[alert]
[crit]



=== TEST 4: a circuit opened on one node is open on the others within sync
Node 1 sees provider "flaky" fail once (max_fails=1) and opens its
circuit; nodes 2 and 3 learn it from Redis at their next sync and skip
"flaky" at once: their requests go straight to "a".
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream flaky host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/flaky/v1 key=sk-f max_fails=1 fail_timeout=30s;
--- config
location /c/ {
    llm_route m flaky a;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/flaky/v1/ { llm_mock status=503; }
location /n2/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/; }
location /n3/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "POST /c/chat/completions\n$::B_BURST",
  "GET /ctl/grep/2/circuit%20opened",
  "GET /ctl/grep/3/circuit%20opened",
  "POST /n2/c/chat/completions\n$::B_BURST",
  "POST /n3/c/chat/completions\n$::B_BURST",
  "POST /c/chat/completions\n$::B_BURST" ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_headers eval
[ "X-Attempts: flaky:503 a:200", "", "", "X-Attempts: a:200", "X-Attempts: a:200", "X-Attempts: a:200" ]
--- response_body_like eval
[ qr/chat\.completion/,
  qr/provider "flaky" circuit opened for \d+ms by another node/,
  qr/provider "flaky" circuit opened for \d+ms by another node/,
  qr/chat\.completion/, qr/chat\.completion/, qr/chat\.completion/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5: a circuit opened while Redis is down reaches the others once it is back
Node 1 opens provider "late"'s circuit while Redis is killed: the change
waits in the zone, the first sync after the reconnect sets it, and nodes
2 and 3 skip "late" from then on.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream late host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/flaky/v1 key=sk-f max_fails=1 fail_timeout=30s;
--- config
location /c2/ {
    llm_route m late a;
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock; }
location /mock/flaky/v1/ { llm_mock status=503; }
location /n2/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/; }
location /n3/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/kill",
  "POST /c2/chat/completions\n$::B_BURST",
  "GET /ctl/start",
  "GET /ctl/grep/2/provider%20%22late%22%20circuit%20opened",
  "GET /ctl/grep/3/provider%20%22late%22%20circuit%20opened",
  "POST /n2/c2/chat/completions\n$::B_BURST",
  "POST /n3/c2/chat/completions\n$::B_BURST" ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
[ "", "X-Attempts: late:503 a:200", "", "", "", "X-Attempts: a:200", "X-Attempts: a:200" ]
--- response_body_like eval
[ qr/killed/, qr/chat\.completion/, qr/started/,
  qr/provider "late" circuit opened for \d+ms by another node/,
  qr/provider "late" circuit opened for \d+ms by another node/,
  qr/chat\.completion/, qr/chat\.completion/ ]
--- no_error_log
[alert]
[crit]
