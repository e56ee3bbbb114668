# llm_redis tls=on: TLS to Redis with nginx's own SSL layer.
#
# The file makes its certificates with openssl when it starts (a CA, the
# server's for "redis.test" and 127.0.0.1, a client's for mutual TLS, and
# another CA that signed none of them), in a temporary directory removed at
# the end: no private key is kept in the repository.  It starts two
# redis-servers (Debian's redis-server, built with TLS) that speak only
# TLS: at TEST_NGINX_PORT + 1 without client certificates, at
# TEST_NGINX_PORT + 2 with tls-auth-clients (mutual TLS); a third,
# plain-text one at TEST_NGINX_PORT + 3.  All are killed when the file ends.
#
# What Redis holds is read back through the responses' x-ratelimit-*
# headers (see t/170): a budget that counts on Redis over TLS shows the
# usage of the requests before.  The blocks that connect allow a request
# 20 s (--- timeout): under valgrind the first handshake takes seconds.

use Test::Nginx::Socket 'no_plan';

use POSIX ();
use IO::Socket::INET;
use File::Temp ();

no_shuffle();

our $MAIN = $$;
our $PORT = $ENV{TEST_NGINX_PORT} || 1984;
our $DIR = File::Temp::tempdir('llm-redis-tls-XXXXXX', TMPDIR => 1,
                               CLEANUP => 1);
our @PIDS;

$ENV{TEST_NGINX_REDIS_TLS} = $PORT + 1;
$ENV{TEST_NGINX_REDIS_MTLS} = $PORT + 2;
$ENV{TEST_NGINX_REDIS_PLAIN} = $PORT + 3;
$ENV{TEST_NGINX_CERTS} = $DIR;

sub openssl {
    my $rc = system("openssl @_ >/dev/null 2>&1");
    die "openssl @_: failed" if $rc;
}

sub certs {
    my $ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
    for my $ca (qw(ca other-ca)) {
        openssl("req -x509 $ec -keyout $DIR/$ca.key -out $DIR/$ca.crt"
                . " -days 2 -subj /CN=llm-router-test-$ca");
    }
    open my $fh, '>', "$DIR/server.ext" or die;
    print $fh "subjectAltName=DNS:redis.test,IP:127.0.0.1\n";
    close $fh;
    open $fh, '>', "$DIR/client.ext" or die;
    print $fh "extendedKeyUsage=clientAuth\n";
    close $fh;
    for my $who (qw(server client)) {
        openssl("req $ec -keyout $DIR/$who.key -out $DIR/$who.csr"
                . " -subj /CN=$who.test");
        openssl("x509 -req -in $DIR/$who.csr -CA $DIR/ca.crt"
                . " -CAkey $DIR/ca.key -CAcreateserial -days 2"
                . " -extfile $DIR/$who.ext -out $DIR/$who.crt");
    }
}

sub redis_start {
    my ($port, @args) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec 'redis-server', '--bind', '127.0.0.1', '--save', '',
               '--appendonly', 'no', '--dir', $DIR, @args; }
        POSIX::_exit(1);
    }
    push @PIDS, $pid;
    for (1 .. 100) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        if ($s) { close $s; return; }
        select undef, undef, undef, 0.05;
    }
    die "redis-server did not start on $port";
}

sub redis_stop {
    return unless $$ == $MAIN;
    local $?;    # END: waitpid must not change the file's exit code
    for my $pid (@PIDS) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    @PIDS = ();
}

END { redis_stop() }
$SIG{INT} = $SIG{TERM} = sub { redis_stop(); exit 1 };

certs();

my @tls = ('--port', 0, '--tls-cert-file', "$DIR/server.crt",
           '--tls-key-file', "$DIR/server.key",
           '--tls-ca-cert-file', "$DIR/ca.crt");

redis_start($ENV{TEST_NGINX_REDIS_TLS}, @tls,
            '--tls-port', $ENV{TEST_NGINX_REDIS_TLS},
            '--tls-auth-clients', 'no');
redis_start($ENV{TEST_NGINX_REDIS_MTLS}, @tls,
            '--tls-port', $ENV{TEST_NGINX_REDIS_MTLS},
            '--tls-auth-clients', 'yes');
redis_start($ENV{TEST_NGINX_REDIS_PLAIN},
            '--port', $ENV{TEST_NGINX_REDIS_PLAIN});

our $B = '{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';
our $E = length($B) + 100;
our $U = 30;

run_tests();

__DATA__

=== TEST 1: tls_verify= takes on or off
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_verify=maybe;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tls_verify=maybe" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 2: tls=on takes on or off; an empty tls_name= is invalid
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_name=;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "tls_name=" in llm_redis in \S+/nginx\.conf:25$}



=== TEST 3: tls_certificate= without tls_certificate_key=
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_certificate=$TEST_NGINX_CERTS/client.crt;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis "tls_certificate=" needs "tls_certificate_key=" too in \S+/nginx\.conf:25$}



=== TEST 4: tls_certificate_key= without tls_certificate=
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_certificate_key=$TEST_NGINX_CERTS/client.key;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis "tls_certificate_key=" needs "tls_certificate=" too in \S+/nginx\.conf:25$}



=== TEST 5: a trusted certificate file that does not exist
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/none.crt;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis "tls_trusted_certificate=": cannot open "\S+/none\.crt" \(2: No such file or directory\) in \S+/nginx\.conf:25$}



=== TEST 6: a key that is not the certificate's
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_certificate=$TEST_NGINX_CERTS/client.crt tls_certificate_key=$TEST_NGINX_CERTS/server.key;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis: cannot use "tls_certificate=\S+/client\.crt" with "tls_certificate_key=\S+/server\.key" in \S+/nginx\.conf:25$}



=== TEST 7: a trusted certificate file that holds no certificate
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/server.ext;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis: cannot use "tls_trusted_certificate=\S+/server\.ext" in \S+/nginx\.conf:25$}



=== TEST 8: a unix socket with verification needs tls_name=
--- http_config
llm_redis unix:/tmp/llm-no-such-redis.sock tls=on;
--- config
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_redis "tls=on" on a unix socket needs "tls_name=" \(the name in the server's certificate\) or "tls_verify=off" in \S+/nginx\.conf:25$}



=== TEST 9: a token budget on Redis over TLS (the address is the verified name)
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/ca.crt db=2;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t9 tokens=10000/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 10000\n"
        . "x-ratelimit-remaining-tokens: " . (10000 - $_ * $::U - $::E) } 0 .. 2 ]
--- no_error_log
[error]
[warn]
[crit]
[alert]



=== TEST 10: over TLS with tls_name= (SNI and the verified name): a request budget holds
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_name=redis.test tls_trusted_certificate=$TEST_NGINX_CERTS/ca.crt on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t10 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 3 ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 200, 429]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/is exhausted \(requests\)/ ]
--- no_error_log
[error]
[warn]
[crit]
[alert]



=== TEST 11: the server's certificate from another CA: down (one line, the reason), on_error=reject answers 503
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/other-ca.crt password=n0t-in-logs on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t11 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /errlog { alias logs/error.log; }
--- request eval
[ (map { "POST /v1/chat/completions\n$::B" } 1 .. 2), "GET /errlog" ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[503, 503, 200]
--- response_body_like eval
[ qr/budget_store_unavailable/, qr/budget_store_unavailable/,
  qr/\A(?![\s\S]*is down[\s\S]*is down)[\s\S]*\[error\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is down \(TLS certificate verify error: \((?:19:self-signed certificate in certificate chain|20:unable to get local issuer certificate)\)\), budgets reject requests/ ]
--- no_error_log
n0t-in-logs
[crit]
[alert]



=== TEST 12: the certificate is not for tls_name=: down
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_name=other.test tls_trusted_certificate=$TEST_NGINX_CERTS/ca.crt on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t12 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code: 503
--- error_log eval
qr/\[error\] .*llm router: redis 127\.0\.0\.1:\d+ is down \(TLS the certificate is not for "other\.test"\), budgets reject requests/
--- no_error_log
[crit]
[alert]



=== TEST 13: tls_verify=off trusts any certificate
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_TLS tls=on tls_verify=off tls_name=other.test on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t13 requests=1/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
[ map { "POST /v1/chat/completions\n$::B" } 1 .. 2 ]
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code eval
[200, 429]
--- no_error_log
[error]
[crit]
[alert]



=== TEST 14: mutual TLS: with the client's certificate a budget holds
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_MTLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/ca.crt tls_certificate=$TEST_NGINX_CERTS/client.crt tls_certificate_key=$TEST_NGINX_CERTS/client.key on_error=reject;
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
--- timeout: 20
--- error_code eval
[200, 200, 200]
--- response_headers_like eval
[ map { "x-ratelimit-limit-tokens: 10000\n"
        . "x-ratelimit-remaining-tokens: " . (10000 - $_ * $::U - $::E) } 0 .. 2 ]
--- no_error_log
[error]
[warn]
[crit]
[alert]



=== TEST 15: mutual TLS: without a client certificate the server refuses: down, on_error=local serves this node's share
# TLS 1.3: the client's handshake ends before the server checks it, so the
# refusal is an alert or a reset on the first write or read
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_MTLS tls=on tls_trusted_certificate=$TEST_NGINX_CERTS/ca.crt timeout=500ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t15 requests=2/d;
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
--- timeout: 20
--- error_code eval
[200, 200, 429, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/exhausted/,
  qr/\A(?![\s\S]*is down[\s\S]*is down)[\s\S]*\[error\] [^\n]*llm router: redis 127\.0\.0\.1:\d+ is down \([^\n]*(?:SSL_read|SSL_write|certificate required|closed by the server)[^\n]*\), budgets enforce this node's share/ ]
--- no_error_log
[crit]
[alert]



=== TEST 16: tls=on to a server without TLS (it waits for a line end): down after timeout=
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PLAIN tls=on tls_verify=off on_error=reject timeout=500ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=t16 requests=2/d;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
--- request eval
"POST /v1/chat/completions\n$::B"
--- more_headers
Content-Type: application/json
--- timeout: 20
--- error_code: 503
--- error_log eval
qr/\[error\] .*llm router: redis 127\.0\.0\.1:\d+ is down \(TLS handshake: no answer within 500 ms\), budgets reject requests/
--- no_error_log
[crit]
[alert]
