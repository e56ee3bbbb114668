# llm_redis' leases: room a worker reserves on Redis for the requests to
# come on a big budget, so that most requests need no round trip; near
# the limit, none, and a budget is never overshot.
#
# The harness is t/171-redis-fleet.t's (see there): Redis on P+1, the
# control server on P+3, nodes 2 and 3 on P+4 and P+5, node 1 is
# Test::Nginx's nginx and serves the mock; /ctl/served and /ctl/each are
# this file's own.

use Test::Nginx::Socket 'no_plan';

use Cwd ();

no_shuffle();
worker_connections(1024);

require './t/redis.pl';
fleet_setup('lease');
our ($P, $RPORT, $PASS, $DIR, @NPORT);    # set by fleet_setup()

# GET /ctl/<what>: this file's, then the fleet files' (t/redis.pl)
sub control {
    my $path = shift;
    if ($path =~ m{^/ctl/served/(\d+)/(\d+)$}) {
        # the nodes' 200s: at most the limit, at least min
        my ($limit, $min) = ($1, $2);
        my $n = () = burst_lines() =~ /^200 /mg;
        my $used = hsum('llm:b:lease3:requests:*', 'used');
        return ($n <= $limit && $n >= $min ? "served within\n"
                                            : "served $n\n")
               . ($used == $n ? "counted exactly\n" : "counted $used\n");
    }
    if ($path =~ m{^/ctl/each/([^/]+)/(\w+)$}) {
        # a field of each key, in the keys' order (windows: in time)
        my ($pattern, $field) = ($1, $2);
        my $keys = redis_cmd('KEYS', $pattern) // [];
        return join '', map { (redis_cmd('HGET', $_, $field) // 0) . "\n" }
                        sort @$keys;
    }
    if ($path =~ m{^/ctl/reload/(\d)$}) {
        # SIGHUP: new workers, the old ones exit once their requests end
        open my $fh, '<', "$DIR/node$1/logs/nginx.pid" or return "no pid\n";
        my $pid = <$fh>;
        chomp $pid;
        return kill('HUP', $pid) ? "reloaded\n" : "not reloaded\n";
    }
    return fleet_control($path) // "unknown\n";
}

# nodes 2 and 3 sync every 200 ms; node 4 (P+6, for TEST 5) every 60 s
sub node_conf {
    my $n = shift;
    my $port = $n == 4 ? $P + 6 : $NPORT[$n - 1];
    my $sync = $n == 4 ? '60s' : '200ms';
    my $params = Cwd::getcwd() . '/conf/llm_params';
    return node_conf_around($n, 1024, <<"_EOC_");
    log_format burst '\$status \$llm_total_tokens';
    llm_redis 127.0.0.1:$RPORT password=$PASS timeout=3s sync=$sync;
    llm_upstream a host=127.0.0.1 port=$P tls=off path=/mock/a/v1 key=sk-a;
    llm_route default a;
    server {
        listen 127.0.0.1:$port;
        location /l3/ {
            llm_budget key=three requests=1100/d name=lease3;
            include $params;
            access_log $DIR/n$n.log burst;
        }
        location /l5/ {
            llm_budget key=five tokens=100000000/d name=lease5;
            include $params;
        }
    }
_EOC_
}

redis_setup();
node_start($_, $NPORT[$_ - 1], node_conf($_)) for 2, 3;
node_start(4, $P + 6, node_conf(4));
$ENV{TEST_NGINX_NODE4_PORT} = $P + 6;

fleet_burst();

run_tests();

__DATA__

=== TEST 1: a big budget: the first request and a lease in one round trip, the next 19 from the lease; their usage reaches Redis when it closes, nothing stays reserved
Each request reserves 75 + 1000 tokens and uses 30.  The first one's
batch asks for a lease of 16 x 1075 = 17200 tokens; requests 2 to 20
take from it (none is settled on Redis: "used" holds the first one's 30
only, "res" the lease).  Two syncs after the last one the lease closes:
all 600 tokens used, nothing reserved.  The 20th request's remaining
tokens are the fleet's room when the lease was granted (the first
request still reserved there) less what the lease's requests used.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=2s;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /l1/ {
    llm_budget key=one tokens=100000000/d name=lease1;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ ("POST /l1/chat/completions\n$::B_BURST") x 20,
  "GET /ctl/sum/llm:b:lease1:tokens:*/used",
  "GET /ctl/sum/llm:b:lease1:tokens:*/res",
  "GET /ctl/until/llm:b:lease1:tokens:*/res/0",
  "GET /ctl/until/llm:b:lease1:tokens:*/used/600" ]
--- more_headers
Content-Type: application/json
--- timeout: 30
--- error_code eval
[ (200) x 24 ]
--- response_headers_like eval
[ "x-ratelimit-remaining-tokens: 99998925",
  "x-ratelimit-remaining-tokens: 99997850",
  ("") x 17,
  "x-ratelimit-remaining-tokens: 99997310",
  ("") x 4 ]
--- response_body_like eval
[ (qr/chat\.completion/) x 20, qr/\A30\n\z/, qr/\A17200\n\z/, qr/\A0\n\z/,
  qr/\A600\n\z/ ]
--- no_error_log
[error]
[alert]
[crit]
fleet-secret



=== TEST 2: lease=off: every request reserved and settled on Redis
The same 20 requests: each settled on its own, nothing stays reserved
once they are counted.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=2s lease=off;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /l2/ {
    llm_budget key=two tokens=100000000/d name=lease2;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ ("POST /l2/chat/completions\n$::B_BURST") x 20,
  "GET /ctl/until/llm:b:lease2:tokens:*/used/600",
  "GET /ctl/sum/llm:b:lease2:tokens:*/res" ]
--- more_headers
Content-Type: application/json
--- timeout: 30
--- error_code eval
[ (200) x 22 ]
--- response_headers_like eval
[ "x-ratelimit-remaining-tokens: 99998925",
  ("") x 18,
  "x-ratelimit-remaining-tokens: " . (100000000 - 19 * 30 - 1075),
  "", "" ]
--- response_body_like eval
[ (qr/chat\.completion/) x 20, qr/\A600\n\z/, qr/\A0\n\z/ ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: 3 nodes (5 workers) x 40 concurrent requests, 10 times, on a budget of 1100 requests: leases far from the limit, never over it, counted exactly
Far from the limit the workers reserve from leases; near it they go to
Redis one request at a time.  Whatever the order: at most 1100 served
(at least 1000: a lease held by one worker while another is refused is
given back within a sync), Redis' count equal to the requests served,
and nothing reserved once the leases closed.
--- http_config
log_format burst '$status $llm_total_tokens';
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /l3/ {
    llm_budget key=three requests=1100/d name=lease3;
    include ../../../conf/llm_params;
    access_log $TEST_NGINX_FLEET_DIR/n1.log burst;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /fire {
    MIRRORS_3x40
    llm_mock echo=body;
}
location = /m1 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/l3/chat/completions; }
location = /m2 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/l3/chat/completions; }
location = /m3 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_NODE3_PORT/l3/chat/completions; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/truncate",
  ("POST /fire\n$::B_BURST") x 10,
  "GET /ctl/wait/1200",
  "GET /ctl/until/llm:b:lease3:requests:*/res/0",
  "GET /ctl/served/1100/1000",
  "GET /ctl/nodelog/2",
  "GET /ctl/nodelog/3" ]
--- more_headers
Content-Type: application/json
--- timeout: 60
--- error_code eval
[ (200) x 16 ]
--- response_body_like eval
[ qr/truncated/, (qr/\A\Q$::B_BURST\E\z/) x 10,
  qr/\A200 30 x\d+\n429 - x\d+\n\z/, qr/\A0\n\z/,
  qr/\Aserved within\ncounted exactly\n\z/,
  (qr/\A(?![\s\S]*\[(?:alert|crit|emerg)\])(?![\s\S]*fleet-secret)[\s\S]*\z/) x 2 ]
--- no_error_log
[alert]
[crit]
fleet-secret



=== TEST 4: a request that took from a lease and ends in the next window adds its usage to that window, as one reserved on Redis does; the lease closes with its window
Windows of 3 s; the second request lasts 3.5 s, so it ends in another
window than the one it began in (and took its lease from, unless that
window ended right between the two requests).  Each window's key holds
the usage of the request that ended in it, 30 tokens; nothing stays
reserved in either.  A window in which neither ended (the slow one began
in the last half second of its window, so it ends two windows later) may
have a key of its own, from a lease asked for and closed in it: nothing
used, nothing reserved.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream slow host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/slow/v1 key=sk-a;
llm_route default a;
--- config
location /l4/ {
    llm_budget key=four tokens=100000000/3s name=lease4;
    include ../../../conf/llm_params;
}
location /l4slow/ {
    llm_budget key=four tokens=100000000/3s name=lease4;
    llm_route m slow;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /mock/slow/v1/ { llm_mock delay=3500ms prompt_tokens=10 completion_tokens=20; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "POST /l4/chat/completions\n$::B_BURST",
  "POST /l4slow/chat/completions\n$::B_BURST",
  "GET /ctl/until/llm:b:lease4:tokens:*/used/60",
  "GET /ctl/until/llm:b:lease4:tokens:*/res/0",
  "GET /ctl/each/llm:b:lease4:tokens:*/used",
  "GET /ctl/each/llm:b:lease4:tokens:*/res" ]
--- more_headers
Content-Type: application/json
--- timeout: 30
--- error_code eval
[ (200) x 6 ]
--- response_body_like eval
[ (qr/chat\.completion/) x 2, qr/\A60\n\z/, qr/\A0\n\z/,
  qr/\A(?:0\n)*30\n(?:0\n)*30\n(?:0\n)*\z/, qr/\A(?:0\n){2,}\z/ ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: a worker that exits (a reload) settles its lease first: nothing stays reserved, nothing is lost
Node 4 syncs every 60 s, so its leases are not closed for being idle:
their room is held after 5 requests (a lease per worker that served
one: node 4 has two).  A reload makes its workers exit, and each
settles its lease on its way out.
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /n4/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE4_PORT/; }
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ ("POST /n4/l5/chat/completions\n$::B_BURST") x 5,
  "GET /ctl/sum/llm:b:lease5:tokens:*/res",
  "GET /ctl/reload/4",
  "GET /ctl/until/llm:b:lease5:tokens:*/res/0",
  "GET /ctl/until/llm:b:lease5:tokens:*/used/150",
  "GET /ctl/nodelog/4" ]
--- more_headers
Content-Type: application/json
--- timeout: 30
--- error_code eval
[ (200) x 10 ]
--- response_body_like eval
[ (qr/chat\.completion/) x 5, qr/\A(?:17200|34400)\n\z/, qr/\Areloaded\n\z/,
  qr/\A0\n\z/, qr/\A150\n\z/,
  qr/\A(?![\s\S]*\[(?:alert|crit|emerg)\])(?![\s\S]*are lost)[\s\S]*\z/ ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: llm_redis lease=: a number of requests from 2 to 1024, or off
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT lease=1;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "lease=1" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 7: llm_redis lease= not a number
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT lease=many;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "lease=many" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 8: llm_redis lease= too large
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT lease=1025;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "lease=1025" in llm_redis in \S+/nginx\.conf:25$}
