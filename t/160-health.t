# Active health checks: one worker probes every provider that has "check"
# (a lease in the zone moves when that worker dies), a provider whose
# probes fail is skipped before any client request pays for it, probes
# alone bring it back, a key refused by probes is skipped by requests, and
# each server of an upstream block is probed and marked on its own.
#
# Probes are asynchronous: a block waits (in --- init, polling the error
# log with a generous bound) for the state change it is about, then sends
# its requests.

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $Config = <<'_EOC_';
location /v1/ { include ../../../conf/llm_params; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

# waits up to $secs for $re in the error log; returns $1 (or 1), or undef
sub wait_for_log {
    my ($re, $secs) = @_;
    return wait_for_file(server_root() . '/logs/error.log', $re, $secs);
}

sub wait_for_file {
    my ($file, $re, $secs) = @_;
    my $deadline = time + $secs;

    while (time < $deadline) {
        if (open my $fh, '<', $file) {
            local $/;
            my $log = <$fh>;
            close $fh;
            return defined $1 ? $1 : 1 if $log =~ $re;
        }
        select undef, undef, undef, 0.1;
    }

    return undef;
}

# a server on a unix socket that answers every connection with $reply, for
# at most $secs seconds (nginx under ASan on a busy machine can take many of
# them to start), or until this test file ends: it holds no handle of the
# TAP stream, so prove does not wait for it
my @raw_servers;

END { kill 'TERM', @raw_servers if @raw_servers }

sub raw_server {
    my ($path, $reply, $secs) = @_;
    require IO::Socket::UNIX;
    unlink $path;
    my $sock = IO::Socket::UNIX->new(Local => $path, Listen => 16,
                                     Type => Socket::SOCK_STREAM())
        or die "listen $path: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid) {
        close $sock;
        push @raw_servers, $pid;
        return $pid;
    }
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    # _exit: the test's END blocks are the parent's, not this child's
    require POSIX;
    local $SIG{ALRM} = sub { POSIX::_exit(0) };
    local $SIG{PIPE} = 'IGNORE';    # a client gone before the reply
    alarm $secs;
    while (my $c = $sock->accept) {
        my $buf;
        sysread $c, $buf, 4096;
        syswrite $c, $reply;
        close $c;
    }
    POSIX::_exit(0);
}

run_tests();

__DATA__

=== TEST 1: rise= without check
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k rise=2;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "a" has health check parameters without "check" in \S+/nginx\.conf:25$}



=== TEST 2: check= must be a URI
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k check=health;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "check=health" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 3: invalid check_interval=, check_timeout=, fall=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k check
             check_timeout=5s
             check_interval=0;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "check_interval=0" in llm_upstream "a" in \S+/nginx\.conf:27$}



=== TEST 4: fall=0
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k check fall=0;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "fall=0" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 5: a preset without a free probe needs check=uri or check_body=
--- http_config
llm_upstream d preset=doubao host=127.0.0.1 key=k check;
llm_route m d;
--- must_die
--- error_log eval
qr{\[emerg\] .*preset "doubao" has no free probe: give "check=uri" or "check_body=" in llm_upstream "d" in \S+/nginx\.conf:25$}



=== TEST 6: check_body= file missing
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k check check_body=no-such-probe.json;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*"check_body" file "\S+no-such-probe\.json" of llm_upstream "a" failed .* in \S+/nginx\.conf:25$}



=== TEST 7: a provider whose probes fail is down before any client request pays
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=2;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models {
    return 503 '{"error":{"message":"overloaded","type":"server_error"}}';
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log
llm router: health checks run in this worker
provider "a" is down: no server passes probes, last probe: status 503
--- no_error_log
[alert]
[crit]



=== TEST 8: probes alone bring a provider back
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1 rise=2;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models {
    if (-f $document_root/a-up) {
        return 200 '{"object":"list","data":[]}';
    }
    return 503;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
open my $fh, '>', html_dir() . '/a-up' or die;
close $fh;
main::wait_for_log(qr/provider "a" is up again/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- error_log
provider "a" is down
provider "a" is up again: a server passes probes again, last probe: status 200
--- no_error_log
[alert]
[crit]



=== TEST 9: every target down: all are still tried, in order
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b check check_interval=100ms fall=1;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 500; }
location = /mock/b/v1/models { return 500; }
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/provider "a" is down(?s:.*)provider "b" is down|provider "b" is down(?s:.*)provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:503 b:200
--- no_error_log
[alert]
[crit]



=== TEST 10: a key refused by probes is skipped by requests; the provider stays up
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key_file=../html/keys.txt check check_interval=100ms fall=1;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models {
    if ($http_authorization = "Bearer sk-revoked") {
        return 401 '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}';
    }
    return 200 '{"object":"list","data":[]}';
}
location /mock/a/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-revoked
sk-good
--- init
main::wait_for_log(qr/key #1 of provider "a" is refused by probes/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a#2:200
--- error_log
key #1 of provider "a" is refused by probes (status 401): skipped until a probe with it passes
--- no_error_log eval
['llm router: provider "a" is down', qr/\[(?:warn|error|notice)\].*sk-revoked/, "[alert]", "[crit]"]



=== TEST 11: each server of an upstream block is probed and marked on its own
--- http_config
upstream fleet {
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
}
server {
    listen unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
    location = /mock/a/v1/models { return 503; }
    location / { llm_mock; }
}
llm_upstream a upstream=fleet host=fleet.test tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 200 '{"object":"list","data":[]}'; }
location /mock/a/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/server unix:\S+s2\.sock of provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: a:200
--- error_log eval
qr/server unix:\S+s2\.sock of provider "a" is down: 1 probes failed, last: status 503/
--- no_error_log
llm router: provider "a" is down
[alert]
[crit]



=== TEST 12: the prober's lease moves to another worker when its worker is killed
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=200ms;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location = /mock/a/v1/models { return 200 '{"object":"list","data":[]}'; }
location /mock/a/v1/ { llm_mock; }
--- init
my $pid = main::wait_for_log(qr/\[notice\] (\d+)#\d+: llm router: health checks run in this worker/, 30);
if ($pid) {
    kill 'KILL', $pid;
    main::wait_for_log(qr/health checks run in this worker, taken over from process \Q$pid\E/, 30);
}
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- error_log eval
qr/health checks run in this worker, taken over from process \d+/
--- no_error_log eval
[qr/\[alert\](?!.*exited on signal 9)/, "[crit]"]



=== TEST 13: a slow probe answer is a timeout: down, and the worker serves on
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=200ms check_timeout=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { llm_mock delay=2s; }
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log
provider "a" is down: no server passes probes, last probe: timeout
--- no_error_log
[alert]
[crit]



=== TEST 14: garbage instead of an HTTP answer: down
--- http_config
upstream garbage {
    server unix:$TEST_NGINX_SERVER_ROOT/logs/garbage.sock;
}
llm_upstream a upstream=garbage host=a.test tls=off path=/v1 key=sk-a check check_interval=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/b/v1/ { llm_mock; }
--- post_setup_server_root
main::raw_server(server_root() . '/logs/garbage.sock', "\x00\x01\x02 SSH-2.0-OpenSSH\r\n\r\n", 120);
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log
provider "a" is down: no server passes probes, last probe: not an HTTP answer
--- no_error_log
[alert]
[crit]



=== TEST 15: a huge status line: down
--- http_config
upstream huge {
    server unix:$TEST_NGINX_SERVER_ROOT/logs/huge.sock;
}
llm_upstream a upstream=huge host=a.test tls=off path=/v1 key=sk-a check check_interval=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/b/v1/ { llm_mock; }
--- post_setup_server_root
main::raw_server(server_root() . '/logs/huge.sock', "HTTP/1.1 200 " . ("OK" x 100000) . "\r\n\r\n", 120);
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log
provider "a" is down: no server passes probes, last probe: no status line in the answer
--- no_error_log
[alert]
[crit]



=== TEST 16: a TLS failure: down
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=on path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/b/v1/ { llm_mock; }
--- init
main::wait_for_log(qr/provider "a" is down/, 30);
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- error_log
provider "a" is down: no server passes probes, last probe: TLS handshake failed
--- no_error_log
[alert]
[crit]



=== TEST 17: a server marked down is skipped by its block's own balancer
The first server is the one round robin picks first in each worker; it is
down, so every request goes to the second.
--- http_config
upstream fleet {
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
}
server {
    listen unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
    location = /mock/a/v1/models { return 200 '{"object":"list","data":[]}'; }
    location / { llm_mock "content=from s2"; }
}
llm_upstream a upstream=fleet host=fleet.test tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 503; }
location /mock/a/v1/ { llm_mock "content=from s1"; }
--- init
main::wait_for_log(qr/server 127\.0\.0\.1:\d+ of provider "a" is down/, 30);
--- request eval
["POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Attempts: a:200", "X-Attempts: a:200", "X-Attempts: a:200", "X-Attempts: a:200"]
--- response_body_like eval
["from s2", "from s2", "from s2", "from s2"]
--- no_error_log
[alert]
[crit]



=== TEST 18: the same with least_conn and keepalive
--- http_config
upstream fleet {
    least_conn;
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
    keepalive 4;
}
server {
    listen unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
    location = /mock/a/v1/models { return 200 '{"object":"list","data":[]}'; }
    location / { llm_mock "content=from s2"; }
}
llm_upstream a upstream=fleet host=fleet.test tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 503; }
location /mock/a/v1/ { llm_mock "content=from s1"; }
--- init
main::wait_for_log(qr/server 127\.0\.0\.1:\d+ of provider "a" is down/, 30);
--- request eval
["POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}", "POST /v1/chat/completions\n{\"model\":\"m\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
["from s2", "from s2", "from s2", "from s2"]
--- no_error_log
[alert]
[crit]



=== TEST 19: TLS probes: SNI, Host and key as requests, the certificate verified
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream p upstream=provider_tls host=provider.test tls=on path=/v1 key=sk-tls check check_interval=100ms fall=1;
llm_route m p;
log_format probe '$request $status sni=$ssl_server_name host=$http_host auth=$http_authorization';
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    access_log logs/probe.log probe;
    location = /v1/models { return 200 '{"object":"list","data":[]}'; }
    location /v1/ { return 200 '{}'; }
}
--- config
location /v1/ {
    llm_router on;
    proxy_pass https://llm_router;
    proxy_http_version 1.1;
    proxy_next_upstream error timeout http_502 non_idempotent;
    proxy_set_header Host $llm_upstream_host;
    proxy_set_header Connection "";
    proxy_set_header Authorization $llm_upstream_authorization;
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate ../../cert/ca.crt;
}
location = /probe.log {
    root $TEST_NGINX_SERVER_ROOT/logs;
    default_type text/plain;
}
--- init
main::wait_for_file(server_root() . '/logs/probe.log', qr{(?s)GET /v1/models HTTP/1\.1 200 .*GET /v1/models HTTP/1\.1 200 }, 30);
--- request
GET /probe.log
--- error_code: 200
--- response_body_like: GET /v1/models HTTP/1\.1 200 sni=provider\.test host=provider\.test auth=Bearer sk-tls\n
--- no_error_log
is down
[alert]
[crit]



=== TEST 20: a certificate the location does not trust: down
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream p upstream=provider_tls host=provider.test tls=on path=/v1 key=sk-tls check check_interval=100ms fall=1;
llm_route m p;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    location /v1/ { return 200 '{}'; }
}
--- config
location /v1/ { include ../../../conf/llm_params; }
--- init
main::wait_for_log(qr/provider "p" is down/, 30);
--- request
GET /t
--- error_code: 404
--- error_log
provider "p" is down: no server passes probes, last probe: certificate verify error
--- no_error_log
[alert]
[crit]
