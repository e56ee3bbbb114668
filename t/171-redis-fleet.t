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
use POSIX ();
use IO::Socket::INET;

no_shuffle();
worker_connections(1024);

our $MAIN = $$;
our $P = $ENV{TEST_NGINX_PORT} || 1984;
our $RPORT = $P + 1;
our $CPORT = $P + 3;
our @NPORT = ($P, $P + 4, $P + 5);
our $PASS = 'fleet-secret';
our $DIR = "/tmp/llm-fleet-$P";
our (%KIDS, $RPID);

$ENV{TEST_NGINX_REDIS_PORT} = $RPORT;
$ENV{TEST_NGINX_REDIS_PASSWORD} = $PASS;
$ENV{TEST_NGINX_CTL_PORT} = $CPORT;
$ENV{TEST_NGINX_NODE2_PORT} = $NPORT[1];
$ENV{TEST_NGINX_NODE3_PORT} = $NPORT[2];
$ENV{TEST_NGINX_FLEET_DIR} = $DIR;

sub port_up {
    my $port = shift;
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        if ($s) { close $s; return 1; }
        select undef, undef, undef, 0.05;
    }
    return 0;
}

sub spawn {
    my @cmd = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec @cmd; }
        POSIX::_exit(1);
    }
    return $pid;
}

sub redis_start {
    $RPID = spawn('redis-server', '--port', $RPORT, '--bind', '127.0.0.1',
                  '--save', '', '--appendonly', 'no', '--dir', $DIR,
                  '--requirepass', $PASS, '--enable-debug-command', 'yes');
    port_up($RPORT) or die "redis-server did not start on $RPORT";
}

sub redis_kill {
    return unless $RPID;
    kill 'KILL', $RPID;
    waitpid $RPID, 0;
    $RPID = undef;
}

# one command, RESP by hand (no client library needed)
sub redis_cmd {
    my @args = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$RPORT",
                                  Timeout => 5) or return undef;
    my $req = '';
    for my $c (['AUTH', $PASS], [@args]) {
        $req .= '*' . @$c . "\r\n" . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
    }
    print $s $req;
    my @replies;
    for (1 .. 2) { push @replies, read_reply($s); }
    close $s;
    return $replies[1];
}

sub read_reply {
    my $s = shift;
    my $line = <$s> // return undef;
    $line =~ s/\r\n\z//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':' || $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        read($s, $buf, $v + 2);
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return [ map { read_reply($s) } 1 .. $v ];
    }
    return undef;
}

sub hsum {
    my ($pattern, $field) = @_;
    my $keys = redis_cmd('KEYS', $pattern) // [];
    my $sum = 0;
    $sum += (redis_cmd('HGET', $_, $field) // 0) for @$keys;
    return $sum;
}

sub burst_lines {
    my $out = '';
    for my $n (1 .. 3) {
        open my $fh, '<', "$DIR/n$n.log" or next;
        $out .= join '', <$fh>;
    }
    return $out;
}

# GET /ctl/<what>: what the blocks need at run time
sub control {
    my $path = shift;
    if ($path =~ m{^/ctl/kill$}) { redis_kill(); return "killed\n"; }
    if ($path =~ m{^/ctl/start$}) { redis_start(); return "started\n"; }
    if ($path =~ m{^/ctl/pause/(\d+)$}) {
        my $secs = $1;
        # the reply comes when Redis wakes up: a child waits for it
        my $pid = fork // return "fork failed\n";
        if ($pid == 0) { redis_cmd('DEBUG', 'SLEEP', $secs); POSIX::_exit(0); }
        select undef, undef, undef, 0.2;
        return "paused\n";
    }
    if ($path =~ m{^/ctl/ping$}) {
        for (1 .. 100) {
            my $r = redis_cmd('PING');
            return "$r\n" if defined $r && $r eq 'PONG';
            select undef, undef, undef, 0.1;
        }
        return "no pong\n";
    }
    if ($path =~ m{^/ctl/sum/([^/]+)/(\w+)$}) { return hsum($1, $2) . "\n"; }
    if ($path =~ m{^/ctl/until/([^/]+)/(\w+)/(\d+)$}) {
        my ($pat, $f, $want) = ($1, $2, $3);
        my $got;
        for (1 .. 100) {
            $got = hsum($pat, $f);
            last if $got == $want;
            select undef, undef, undef, 0.1;
        }
        return "$got\n";
    }
    if ($path =~ m{^/ctl/wait/(\d+)$}) {
        my $want = $1;
        my $log;
        for (1 .. 300) {
            $log = burst_lines();
            last if ($log =~ tr/\n//) >= $want;
            select undef, undef, undef, 0.1;
        }
        my %n;
        $n{$_}++ for split /\n/, $log;
        return join '', map { "$_ x$n{$_}\n" } sort keys %n;
    }
    if ($path =~ m{^/ctl/truncate$}) {
        for my $n (1 .. 3) { open my $fh, '>', "$DIR/n$n.log"; }
        return "truncated\n";
    }
    if ($path =~ m{^/ctl/grep/(\d)/(.+)$}) {
        my ($n, $what) = ($1, $2);
        $what =~ s/%20/ /g;
        for (1 .. 100) {
            open my $fh, '<', "$DIR/node$n/logs/error.log" or last;
            my ($line) = grep { index($_, $what) >= 0 } <$fh>;
            return $line if defined $line;
            select undef, undef, undef, 0.1;
        }
        return "not found\n";
    }
    if ($path =~ m{^/ctl/nodelog/(\d)$}) {
        open my $fh, '<', "$DIR/node$1/logs/error.log" or return "none\n";
        return join '', grep { !/\[debug\]/ } <$fh>;
    }
    return "unknown\n";
}

sub control_server {
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$CPORT",
                                  Listen => 16, ReuseAddr => 1)
        or die "control server: $!";
    $SIG{TERM} = sub { redis_kill(); POSIX::_exit(0) };
    while (my $c = $l->accept) {
        my $req = <$c> // next;
        while (my $h = <$c>) { last if $h =~ /^\r?\n\z/; }
        my ($path) = $req =~ m{^\S+ (\S+)};
        my $body = control($path // '');
        print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body";
        close $c;
    }
}

sub node_conf {
    my $n = shift;
    my $port = $NPORT[$n - 1];
    my ($router) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    my $params = Cwd::getcwd() . '/conf/llm_params';
    my $root = "$DIR/node$n";
    return <<"_EOC_";
daemon off;
master_process on;
worker_processes 2;
pid $root/logs/nginx.pid;
error_log $root/logs/error.log info;
load_module $router;
events { worker_connections 1024; }
http {
    access_log off;
    log_format burst '\$status \$llm_total_tokens';
    client_body_temp_path $root/client_body_temp;
    proxy_temp_path $root/proxy_temp;
    fastcgi_temp_path $root/fastcgi_temp;
    uwsgi_temp_path $root/uwsgi_temp;
    scgi_temp_path $root/scgi_temp;
    llm_redis 127.0.0.1:$RPORT password=$PASS timeout=3s sync=200ms;
    llm_upstream a host=127.0.0.1 port=$P tls=off path=/mock/a/v1 key=sk-a;
    llm_upstream flaky host=127.0.0.1 port=$P tls=off path=/mock/flaky/v1 key=sk-f max_fails=1 fail_timeout=30s;
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
        location /f3/ {
            llm_budget key=three tokens=100000000/d name=fleet3;
            include $params;
            access_log $DIR/n$n.log burst;
        }
    }
}
_EOC_
}

sub start_all {
    system('rm', '-rf', $DIR);
    mkdir $DIR or die "$DIR: $!";
    redis_start();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) { control_server(); POSIX::_exit(0); }
    $KIDS{$pid} = 'control';
    port_up($CPORT) or die "control server did not start";
    for my $n (2, 3) {
        my $root = "$DIR/node$n";
        mkdir $root; mkdir "$root/logs"; mkdir "$root/conf";
        open my $fh, '>', "$root/conf/nginx.conf" or die;
        print $fh node_conf($n);
        close $fh;
        my $p = spawn($ENV{TEST_NGINX_BINARY} // 'nginx', '-p', "$root/",
                      '-c', "$root/conf/nginx.conf", '-e', "$root/logs/error.log");
        $KIDS{$p} = "node$n";
        port_up($NPORT[$n - 1]) or die "node $n did not start";
    }
}

sub stop_all {
    return unless $$ == $MAIN;
    local $?;    # END: waitpid must not change the file's exit code
    for my $pid (keys %KIDS) {
        kill $KIDS{$pid} =~ /^node/ ? 'QUIT' : 'TERM', $pid;
    }
    for my $pid (keys %KIDS) { waitpid $pid, 0; }
    %KIDS = ();
    redis_kill();    # not started by the control server: ours
    system('rm', '-rf', $DIR);
}

END { stop_all() }
$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 1 };

start_all();

our $B_BURST = '{"model":"m","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}';
die "the body of the burst must be 75 bytes" unless length $B_BURST == 75;
our $MIRRORS = join "\n", map { my $n = $_; map { "    mirror /m$n;" } 1 .. 40 } 1 .. 3;

add_block_preprocessor(sub {
    my $block = shift;
    my $c = $block->config // return;
    $c =~ s/^\s*MIRRORS_3x40$/$MIRRORS/m;
    $block->set_value(config => $c);
});

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
