# llm_redis: request counters and health across a fleet of two nodes.
#
# Processes this file starts (outside the blocks, when it is loaded) and
# kills when it ends (END block, also on INT/TERM); ports derive from
# TEST_NGINX_PORT (P), so parallel runs with their own P do not collide:
#
#   P+1  redis-server (Debian's), no automatic persistence, DEBUG enabled
#   P+3  a small HTTP control server (this file's perl, forked): the
#        blocks' requests drive it through "location /ctl/" of the
#        Test::Nginx nginx: stop (SAVE, then kill) and start Redis, read
#        Redis, pause it (DEBUG SLEEP), poll a node's status page until
#        it shows what is expected,
#        switch the health of provider "h" (a file its probe URI tests)
#   P+4  node 2: nginx with the router, its own conf in /tmp/llm-share-P
#
# Node 1 is Test::Nginx's nginx (P); it also serves the mock providers
# that both nodes proxy to and probe.  Node 2 probes "h" once, at its
# start (check_interval=1h): what it knows of "h" later comes from node 1
# through Redis.

use Test::Nginx::Socket 'no_plan';

use Cwd ();

no_shuffle();

our $P = $ENV{TEST_NGINX_PORT} || 1984;
our $RPORT = $P + 1;
our $CPORT = $P + 3;
our @NPORT = ($P, $P + 4);
our $PASS = 'share-secret';
our $DIR = "/tmp/llm-share-$P";
# /ctl/stop saves before it kills (an outage that loses nothing), the
# restart loads that file
our @REDIS_ARGS = ('--enable-debug-command', 'yes');

$ENV{TEST_NGINX_REDIS_PORT} = $RPORT;
$ENV{TEST_NGINX_REDIS_PASSWORD} = $PASS;
$ENV{TEST_NGINX_CTL_PORT} = $CPORT;
$ENV{TEST_NGINX_NODE2_PORT} = $NPORT[1];
$ENV{TEST_NGINX_SHARE_DIR} = $DIR;

require './t/redis.pl';

sub http_get {
    my ($port, $path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or return '';
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    close $s;
    $r =~ s/\A[\s\S]*?\r\n\r\n//;
    return $r;
}

# the "fleet" rows of a node's status (JSON), compact
sub fleet_rows {
    my $n = shift;
    my $j = http_get($NPORT[$n - 1], '/status.json');
    my ($f) = $j =~ /"fleet":\[(.*?)\]\}/;
    return '' unless defined $f;
    my @out;
    while ($f =~ /\{"scope":"(\w+)","nodes":(\d+),"requests":(\d+),"errors":(\d+),"prompt_tokens":(\d+),"completion_tokens":(\d+)/g) {
        push @out, "$1 nodes=$2 requests=$3 errors=$4 prompt=$5 completion=$6";
    }
    return join("\n", @out) . "\n";
}

# provider "h" on a node's status (JSON): state and probes
sub health_row {
    my $n = shift;
    my $j = http_get($NPORT[$n - 1], '/status.json');
    my ($h) = $j =~ /"health":\[\{"provider":"h",(.*?)\}/;
    return "none\n" unless defined $h;
    my ($state) = $h =~ /"state":"(\w+)"/;
    my ($probes) = $h =~ /"probes":(\d+)/;
    return "$state probes=$probes\n";
}

sub control {
    my $path = shift;
    if ($path =~ m{^/ctl/stop$}) {
        redis_cmd('SAVE');
        redis_kill();
        return "stopped\n";
    }
    if ($path =~ m{^/ctl/start$}) { redis_start(); return "started\n"; }
    if ($path =~ m{^/ctl/pause/(\d+)$}) { return redis_pause($1); }
    if ($path =~ m{^/ctl/hget/([^/]+)/(\w+)$}) {
        return (redis_cmd('HGET', $1, $2) // 'nil') . "\n";
    }
    if ($path =~ m{^/ctl/fleet/(\d)/(\d+)$}) {
        # until the fleet's row shows that many requests (10 s at most)
        my ($n, $want) = ($1, $2);
        return poll(sub { fleet_rows($n) },
                    sub { $_[0] =~ /^fleet nodes=\d+ requests=$want /m });
    }
    if ($path =~ m{^/ctl/health/(\d)/(\w+)$}) {
        my ($n, $want) = ($1, $2);
        return poll(sub { health_row($n) }, sub { $_[0] =~ /^\Q$want\E / });
    }
    if ($path =~ m{^/ctl/h(up|down)$}) {
        if ($1 eq 'up') { open my $fh, '>', "$DIR/h-up"; }
        else { unlink "$DIR/h-up"; }
        return "h $1\n";
    }
    if ($path =~ m{^/ctl/nodelog/(\d)$}) {
        open my $fh, '<', "$DIR/node$1/logs/error.log" or return "none\n";
        return join '', grep { !/\[debug\]/ } <$fh>;
    }
    return "unknown\n";
}

sub node_conf {
    my $port = $NPORT[1];
    my $params = Cwd::getcwd() . '/conf/llm_params';
    return node_conf_around(2, 64, <<"_EOC_");
    llm_redis 127.0.0.1:$RPORT password=$PASS timeout=1s sync=200ms;
    llm_upstream a host=127.0.0.1 port=$P tls=off path=/mock/a/v1 key=sk-a;
    llm_upstream h host=127.0.0.1 port=$P tls=off path=/mock/h/v1 key=sk-h check check_interval=1h fall=5 rise=1;
    llm_route default a;
    server {
        listen 127.0.0.1:$port;
        location /v1/ { include $params; }
        location = /status.json { llm_status json; }
        location = /metrics { llm_status; }
    }
_EOC_
}

redis_setup();
{ open my $fh, '>', "$DIR/h-up" or die "$DIR/h-up: $!"; }
node_start(2, $NPORT[1], node_conf());

our $B = '{"model":"m","messages":[{"role":"user","content":"hi"}]}';

run_tests();

__DATA__

=== TEST 1: request counters: fleet totals and each node's own on both nodes; counted while Redis is down is added once it is back, nothing twice
The mock answers 10 prompt and 20 completion tokens.  Node 1 serves 2
requests and 1 error (400), node 2 serves 1: every node's status shows
the fleet's 4 (1 error) and its own.  Redis is then stopped (saved,
killed), node 1 serves 1 and node 2 serves 2 while it is down; once it
is back both show 7, and Redis holds 7: nothing lost, nothing twice.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /status.json { llm_status json; }
location = /metrics { llm_status; }
location = /status.html { llm_status html; }
location /n2/ { proxy_pass http://127.0.0.1:$TEST_NGINX_NODE2_PORT/; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "POST /v1/chat/completions\n$::B",
  "POST /v1/chat/completions\n$::B",
  "POST /v1/chat/completions\n{",
  "POST /n2/v1/chat/completions\n$::B",
  "GET /ctl/fleet/1/4",
  "GET /ctl/fleet/2/4",
  "GET /ctl/stop",
  "POST /v1/chat/completions\n$::B",
  "POST /n2/v1/chat/completions\n$::B",
  "POST /n2/v1/chat/completions\n$::B",
  "GET /ctl/start",
  "GET /ctl/fleet/1/7",
  "GET /ctl/fleet/2/7",
  "GET /ctl/hget/llm:u/requests",
  "GET /ctl/hget/llm:u/completion_tokens",
  "GET /metrics",
  "GET /status.html" ]
--- more_headers
Content-Type: application/json
--- timeout: 40
--- error_code eval
[200, 200, 400, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/invalid_json/, qr/chat\.completion/,
  qr/\Afleet nodes=2 requests=4 errors=1 prompt=30 completion=60\nnode nodes=1 requests=3 errors=1 prompt=20 completion=40\n\z/,
  qr/\Afleet nodes=2 requests=4 errors=1 prompt=30 completion=60\nnode nodes=1 requests=1 errors=0 prompt=10 completion=20\n\z/,
  qr/stopped/,
  qr/chat\.completion/, qr/chat\.completion/, qr/chat\.completion/,
  qr/started/,
  qr/\Afleet nodes=2 requests=7 errors=1 prompt=60 completion=120\nnode nodes=1 requests=4 errors=1 prompt=30 completion=60\n\z/,
  qr/\Afleet nodes=2 requests=7 errors=1 prompt=60 completion=120\nnode nodes=1 requests=3 errors=0 prompt=30 completion=60\n\z/,
  qr/\A7\n\z/, qr/\A120\n\z/,
  qr/^# TYPE llm_fleet_requests_total counter\nllm_fleet_requests_total\{scope="fleet"\} 7\nllm_fleet_requests_total\{scope="node"\} 4$/m,
  qr{<h2>Fleet \(llm_redis\)</h2>[\s\S]*<tr><td><b>fleet</b></td><td class="n">2</td><td class="n">7</td><td class="n">1</td>[\s\S]*<tr><td><b>node</b></td><td class="n">1</td><td class="n">4</td>} ]
--- no_error_log
[alert]
[crit]
share-secret



=== TEST 2: health: a provider node 1's prober finds down is down on node 2 within sync, without a probe of node 2; up again alike
Node 2 probed "h" once at its start (check_interval=1h) and saw it up.
Node 1 probes every 100 ms (fall=1, rise=1): when "h" fails, node 1
marks it down and writes the change to Redis; node 2 takes it over at
its next sync (200 ms) and still has made only its first probe.  Then
"h" passes again: node 1 marks it up, node 2 follows.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream h host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/h/v1 key=sk-h check check_interval=100ms fall=1 rise=1;
llm_route default a;
--- config
location = /mock/h/v1/models {
    if (-f $TEST_NGINX_SHARE_DIR/h-up) {
        return 200 '{"object":"list","data":[]}';
    }
    return 503 '{"error":{"message":"down","type":"server_error"}}';
}
location = /status.json { llm_status json; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/health/2/up",
  "GET /ctl/hdown",
  "GET /ctl/health/1/down",
  "GET /ctl/health/2/down",
  "GET /ctl/hup",
  "GET /ctl/health/1/up",
  "GET /ctl/health/2/up",
  "GET /ctl/nodelog/2" ]
--- timeout: 40
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[ qr/\Aup probes=1\n\z/,
  qr/h down/,
  qr/\Adown probes=\d+\n\z/,
  qr/\Adown probes=1\n\z/,
  qr/h up/,
  qr/\Aup probes=\d+\n\z/,
  qr/\Aup probes=1\n\z/,
  qr/\A(?![\s\S]*\[(?:alert|crit|emerg)\])(?![\s\S]*share-secret)[\s\S]*\[warn\] [^\n]*provider "h" is down, as node [^\n]+ found[\s\S]*\[warn\] [^\n]*provider "h" is up, as node [^\n]+ found/ ]
--- no_error_log
[alert]
[crit]
share-secret



=== TEST 3: a batch whose reply is lost (Redis paused past timeout) is sent again and added once
Node 1 is a new nginx (restarted: the same node, the fleet still counts
two, as a node is named by its host and configuration file): its own
count starts at 0, the fleet's is 7 from TEST 1.  Redis sleeps 3 s (timeout=1s): the batch of node 1's 2 requests
is sent, gets no reply in time, and is sent again once Redis answers;
Redis may run both copies, the marker lets only one count: 9, never 11.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ { include ../../../conf/llm_params; }
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /status.json { llm_status json; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
location = /errlog { alias logs/error.log; }
--- request eval
[ "GET /ctl/fleet/1/7",
  "GET /ctl/pause/3",
  "POST /v1/chat/completions\n$::B",
  "POST /v1/chat/completions\n$::B",
  "GET /ctl/fleet/1/9",
  "GET /ctl/hget/llm:u/requests",
  "GET /ctl/fleet/2/9",
  "GET /errlog" ]
--- more_headers
Content-Type: application/json
--- timeout: 40
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[ qr/\Afleet nodes=2 requests=7 errors=1 prompt=60 completion=120\nnode nodes=1 requests=0 errors=0 /,
  qr/paused/,
  qr/chat\.completion/, qr/chat\.completion/,
  qr/\Afleet nodes=\d+ requests=9 errors=1 prompt=80 completion=160\nnode nodes=1 requests=2 errors=0 prompt=20 completion=40\n\z/,
  qr/\A9\n\z/,
  qr/\Afleet nodes=\d+ requests=9 /,
  qr/is down \(no reply within 1000 ms\)[\s\S]*is up again/ ]
--- no_error_log
[alert]
[crit]
share-secret



=== TEST 4: health: a change node 1's prober makes while Redis is down reaches node 2 once Redis is back
Redis is stopped; "h" fails: node 1 marks it down (alone: nothing can be
written).  Redis starts again (with what it saved): node 1 sends the
change at its next sync, node 2 takes it over without a probe of its
own.  Then "h" passes again and both see it up.
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT password=$TEST_NGINX_REDIS_PASSWORD timeout=1s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream h host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/h/v1 key=sk-h check check_interval=100ms fall=1 rise=1;
llm_route default a;
--- config
location = /mock/h/v1/models {
    if (-f $TEST_NGINX_SHARE_DIR/h-up) {
        return 200 '{"object":"list","data":[]}';
    }
    return 503 '{"error":{"message":"down","type":"server_error"}}';
}
location = /status.json { llm_status json; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/health/1/up",
  "GET /ctl/health/2/up",
  "GET /ctl/stop",
  "GET /ctl/hdown",
  "GET /ctl/health/1/down",
  "GET /ctl/health/2/up",
  "GET /ctl/start",
  "GET /ctl/health/2/down",
  "GET /ctl/hup",
  "GET /ctl/health/1/up",
  "GET /ctl/health/2/up" ]
--- timeout: 60
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[ qr/\Aup probes=\d+\n\z/,
  qr/\Aup probes=1\n\z/,
  qr/stopped/,
  qr/h down/,
  qr/\Adown probes=\d+\n\z/,
  qr/\Aup probes=1\n\z/,
  qr/started/,
  qr/\Adown probes=1\n\z/,
  qr/h up/,
  qr/\Aup probes=\d+\n\z/,
  qr/\Aup probes=1\n\z/ ]
--- no_error_log
[alert]
[crit]
share-secret
