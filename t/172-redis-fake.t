# llm_redis against a fake Redis that misbehaves: garbage, partial
# replies, errors, replies of the wrong shape, replies nobody asked for,
# silence.  No crash, no hang: the request is served on this node's share
# (on_error=local) or refused with 503 (on_error=reject), and the error
# log says what was wrong.
#
# The fake Redis is this file's perl, forked when the file is loaded, on
# 127.0.0.1 at TEST_NGINX_PORT + 2 (TEST_NGINX_FAKE_REDIS_PORT), and
# killed when the file ends (END block, also on INT/TERM).  It answers
# AUTH, SELECT, SCRIPT LOAD and the node list like Redis; how it answers
# a budget script depends on the budget's key value (the "mode"), which
# each block sets with llm_budget key=<mode>.

use Test::Nginx::Socket 'no_plan';

use POSIX ();
use IO::Socket::INET;
use IO::Select;

no_shuffle();

our $MAIN = $$;
our $FPORT = ($ENV{TEST_NGINX_PORT} || 1984) + 2;
our $FPID;
$ENV{TEST_NGINX_FAKE_REDIS_PORT} = $FPORT;

our %REPLY = (
    garbage   => "?what is this\r\n",
    error     => "-ERR something broke\r\n",
    integer   => ":5\r\n",
    nil       => "\$-1\r\n",
    badindex  => "*3\r\n:0\r\n:99\r\n:0\r\n",
    nested    => "*3\r\n*1\r\n:1\r\n:0\r\n:7\r\n",
    short     => "*2\r\n:1\r\n:0\r\n",
    huge      => "*9223372036854775807\r\n",
    hugebulk  => "\$1099511627776\r\n",
    extra     => "*3\r\n:1\r\n:0\r\n:1000\r\n+OK\r\n",
);

# the commands in a buffer: complete RESP arrays of bulk strings
sub parse_commands {
    my $buf = shift;
    my @cmds;
    while (1) {
        my $pos = 0;
        last unless $$buf =~ /\G\*(\d+)\r\n/gc;
        my $n = $1;
        my @args;
        my $complete = 1;
        for (1 .. $n) {
            if ($$buf =~ /\G\$(\d+)\r\n/gc) {
                my $len = $1;
                my $at = pos($$buf);
                if (length($$buf) < $at + $len + 2) { $complete = 0; last; }
                push @args, substr($$buf, $at, $len);
                pos($$buf) = $at + $len + 2;
            } else {
                $complete = 0;
                last;
            }
        }
        last unless $complete;
        substr($$buf, 0, pos($$buf)) = '';
        push @cmds, \@args;
    }
    pos($$buf) = undef;
    return @cmds;
}

sub answer {
    my ($cmd, $state) = @_;
    my $name = uc($cmd->[0] // '');
    return '' if $state->{hung};               # "silent": hangs for good
    return "+OK\r\n" if $name eq 'AUTH' || $name eq 'SELECT';
    return "\$40\r\n" . ('a' x 40) . "\r\n" if $name eq 'SCRIPT';
    return ":1\r\n" if $name =~ /^Z/;
    return "-ERR unknown command\r\n" unless $name eq 'EVALSHA';
    my ($mode) = map { /^llm:b:[^:]+:[^:]+:\d+:(\w+)$/ ? $1 : () } @$cmd;
    $mode //= 'ok';
    # EVALSHA sha numkeys keys... args: a reservation's batch starts its
    # args with the markers' ttl, then per request its field, its n keys
    # and 4 * n
    my $args = 3 + ($cmd->[2] // 0);
    my $reserve = ($cmd->[$args] // '') eq '21600';
    return ":1\r\n" unless $reserve;            # a settle
    my @ok;                                     # {1, 0, left...} each
    for (my $a = $args + 1; $a + 1 < @$cmd; $a += 2 + 4 * $cmd->[$a + 1]) {
        push @ok, 1, 0, (1000) x $cmd->[$a + 1];
    }
    my $ok = '*' . @ok . "\r\n" . join('', map { ":$_\r\n" } @ok);
    if ($mode eq 'noscript') {
        return "-NOSCRIPT No matching script.\r\n" if !$state->{noscript}++;
        return $ok;
    }
    if ($mode eq 'silent') { $state->{hung} = 1; return ''; }
    if ($mode eq 'partial') { $state->{close} = 1; return "*3\r\n:1\r\n:0"; }
    return $REPLY{$mode} // $ok;
}

sub fake_redis {
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$FPORT",
                                  Listen => 16, ReuseAddr => 1)
        or die "fake redis: $!";
    my $sel = IO::Select->new($l);
    my (%buf, %state);
    while (1) {
        for my $s ($sel->can_read) {
            if ($s == $l) {
                my $c = $l->accept or next;
                $sel->add($c);
                $buf{$c} = '';
                $state{$c} = {};
                next;
            }
            my $n = sysread($s, my $data, 65536);
            if (!$n) {
                $sel->remove($s);
                delete $buf{$s};
                delete $state{$s};
                close $s;
                next;
            }
            $buf{$s} .= $data;
            my $out = '';
            $out .= answer($_, $state{$s}) for parse_commands(\$buf{$s});
            syswrite($s, $out) if length $out;
            if ($state{$s}{close}) {
                $sel->remove($s);
                delete $buf{$s};
                delete $state{$s};
                close $s;
            }
        }
    }
}

sub fake_stop {
    return unless $FPID && $$ == $MAIN;
    local $?;    # END: waitpid must not change the file's exit code
    kill 'KILL', $FPID;
    waitpid $FPID, 0;
    $FPID = undef;
}

END { fake_stop() }
$SIG{INT} = $SIG{TERM} = sub { fake_stop(); exit 1 };

$FPID = fork // die "fork: $!";
if ($FPID == 0) { fake_redis(); POSIX::_exit(0); }
for (1 .. 100) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$FPORT") and last;
    select undef, undef, undef, 0.05;
}

our $B = '{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}';

# every block: the same gateway, on_error=local, budget key = the mode
our $HTTP = <<'_EOC_';
llm_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=2s;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my $mode = $block->mode // return;
    $block->set_value(http_config => $HTTP) unless defined $block->http_config;
    $block->set_value(config => <<"_EOC_") unless defined $block->config;
location /v1/ {
    llm_budget key=$mode requests=100/d;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /errlog { alias logs/error.log; }
_EOC_
    $block->set_value(request => [ ("POST /v1/chat/completions\n$B") x 2,
                                   "GET /errlog" ])
        unless defined $block->request;
    $block->set_value(more_headers => "Content-Type: application/json")
        unless defined $block->more_headers;
});

run_tests();

__DATA__

=== TEST 1: a well-behaved fake: served through "Redis"
--- mode: ok
--- error_code eval
[200, 200, 200]
--- response_headers eval
[ "x-ratelimit-limit-requests: 100\nx-ratelimit-remaining-requests: 999",
  "x-ratelimit-limit-requests: 100\nx-ratelimit-remaining-requests: 999", "" ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: garbage: a protocol error, the connection is dropped, the request served locally
--- mode: garbage
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*llm router: redis 127\.0\.0\.1:\d+ is down \(protocol error: Protocol error, got "\?" as reply type byte\), budgets enforce this node's share/ ]
--- no_error_log
[alert]
[crit]



=== TEST 3: a partial reply, then the server closes
--- mode: partial
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*llm router: redis 127\.0\.0\.1:\d+ is down \(connection closed by the server\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 4: an error reply to the reservation
--- mode: error
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*llm router: redis 127\.0\.0\.1:\d+: unexpected reply to the reservation \(type 6: ERR something broke\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5 integer: a reply of the wrong shape: an integer
--- mode: integer
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*unexpected reply to the reservation \(type 3\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5 nil: a reply of the wrong shape: nil
--- mode: nil
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*unexpected reply to the reservation \(type 4\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5 badindex: a reply of the wrong shape: a refusal naming no budget of the request
--- mode: badindex
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*unexpected reply to the reservation \(type 2\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5 nested: a reply of the wrong shape: an array in the array
--- mode: nested
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*unexpected reply to the reservation \(type 2\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 5 short: a reply of the wrong shape: a success with too few numbers
--- mode: short
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/\[error\] .*unexpected reply to the reservation \(type 2\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 6: an array of 2^63 elements, a bulk string of 1 TB: no allocation storm, dropped
--- config
location /huge/ { llm_budget key=huge requests=100/d; include ../../../conf/llm_params; }
location /hugebulk/ { llm_budget key=hugebulk requests=100/d; include ../../../conf/llm_params; }
location /mock/a/v1/ { llm_mock prompt_tokens=10 completion_tokens=20; }
location = /errlog { alias logs/error.log; }
--- mode: huge
--- request eval
[ "POST /huge/chat/completions\n$::B", "POST /hugebulk/chat/completions\n$::B", "GET /errlog" ]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/,
  qr/llm router: redis 127\.0\.0\.1:\d+ is down \((?:protocol error|a reply over \d+ bytes)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 7: a reply nobody asked for (hiredis' async API would abort): dropped, no crash
--- mode: extra
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/chat\.completion/, qr/llm router: redis 127\.0\.0\.1:\d+ is down \(a reply to no command\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 8: NOSCRIPT: the script is loaded again and the call repeated, once
--- mode: noscript
--- error_code eval
[200, 200, 200]
--- response_headers eval
[ "x-ratelimit-remaining-requests: 999", "x-ratelimit-remaining-requests: 999", "" ]
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: silence: a budgeted request waits at most timeout=2s
--- mode: silent
--- timeout: 15
--- request eval
[ "POST /v1/chat/completions\n$::B", "GET /errlog" ]
--- error_code eval
[200, 200]
--- response_body_like eval
[ qr/chat\.completion/, qr/llm router: redis 127\.0\.0\.1:\d+ is down \(no reply within 2000 ms\)/ ]
--- no_error_log
[alert]
[crit]



=== TEST 10: on_error=reject with garbage: 503 in the API's format
--- http_config
llm_redis 127.0.0.1:$TEST_NGINX_FAKE_REDIS_PORT timeout=500ms on_error=reject;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- mode: garbage
--- error_code eval
[503, 503, 200]
--- response_body_like eval
[ qr/"code":"budget_store_unavailable"/, qr/"code":"budget_store_unavailable"/ ]
--- no_error_log
[alert]
[crit]
