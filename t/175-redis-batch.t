# llm_redis batches: the reservations a worker's requests make in one
# turn of its event loop go to Redis as one script call, applied there in
# order, each alone; the settles of a turn likewise.  40 requests at once
# against one token budget: each gets its own answer (30 served, 10
# refused, whatever batches they shared), nothing is over, every
# reservation is sent once and every served request settled once, and
# nothing stays reserved.
#
# Processes this file starts when it is loaded and kills when it ends
# (END block, also on INT/TERM); ports derive from TEST_NGINX_PORT (P):
#
#   P+1  redis-server (Debian's), no persistence; its SLOWLOG keeps every
#        command (slowlog-log-slower-than 0): the script calls are read
#        back from it
#   P+3  a small HTTP control server (this file's perl, forked), driven
#        by the blocks' requests through "location /ctl/"; it also sends
#        a burst of HTTP/2 streams (h2c) to the nginx's server on P+4

use Test::Nginx::Socket 'no_plan';

no_shuffle();
worker_connections(1024);

our $P = $ENV{TEST_NGINX_PORT} || 1984;
our $RPORT = $P + 1;
our $CPORT = $P + 3;
our $DIR = "/tmp/llm-batch-$P";
our @REDIS_ARGS = ('--slowlog-log-slower-than', '0',
                   '--slowlog-max-len', '10000');

$ENV{TEST_NGINX_REDIS_PORT} = $RPORT;
$ENV{TEST_NGINX_CTL_PORT} = $CPORT;
$ENV{TEST_NGINX_BATCH_DIR} = $DIR;
$ENV{TEST_NGINX_H2_PORT} = $P + 4;

require './t/redis.pl';

# The budget scripts' calls in the slowlog (one budget key per request).
# A reservations' batch: KEYS its marker (llm:r:...), per request its
# key; ARGV the markers' ttl, per request 2 + 4.  A settles' batch: KEYS
# per request its marker, the key reserved in (the window's is the same);
# ARGV per request 2 + 3.  The slowlog keeps 32 arguments at most, the
# last saying how many more there were.
sub batches {
    my $log = redis_cmd('SLOWLOG', 'GET', '-1') // [];
    my (%requests, %max);
    for my $e (@$log) {
        my $args = $e->[3];
        next unless ref $args && uc($args->[0]) eq 'EVALSHA';
        next unless ($args->[3] // '') =~ /^llm:r:/;
        my $total = @$args;
        $total += $1 - 1 if $args->[-1] =~ /^\.\.\. \((\d+) more/;
        my $nkeys = $args->[2];
        my ($kind, $n);
        if ($total == 3 + $nkeys + 1 + 6 * ($nkeys - 1)) {
            ($kind, $n) = ('reserve', $nkeys - 1);
        } elsif ($nkeys % 2 == 0 && $total == 3 + $nkeys + 5 * $nkeys / 2) {
            ($kind, $n) = ('settle', $nkeys / 2);
        } else {
            next;
        }
        $requests{$kind} += $n;
        $max{$kind} = $n if $n > ($max{$kind} // 0);
    }
    return join '', map {
        "$_: requests " . ($requests{$_} // 0)
        . ", most in one call " . ($max{$_} // 0) . "\n"
    } qw(reserve settle);
}

sub h2_burst {
    my ($port, $n) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 10) or return "connect: $!\n";
    my $frame = sub {
        my ($type, $flags, $id, $payload) = @_;
        my $len = length $payload;
        return pack('CnCCN', $len >> 16, $len & 0xffff, $type, $flags, $id)
               . $payload;
    };
    # HPACK: literal header fields without indexing, names by index
    my $lit = sub { my ($i, $v) = @_; return $i . chr(length $v) . $v; };
    my $out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" . $frame->(4, 0, 0, '');
    for my $k (1 .. $n) {
        my $id = 2 * $k - 1;
        my $h = "\x83\x86"                                  # POST, http
                . $lit->("\x04", '/h2/chat/completions')      # :path
                . $lit->("\x01", 'localhost')                 # :authority
                . $lit->("\x0f\x10", 'application/json')      # content-type
                . $lit->("\x0f\x0d", length $::B_BURST);      # content-length
        $out .= $frame->(1, 4, $id, $h) . $frame->(0, 1, $id, $::B_BURST);
    }
    print $s $out;
    my ($ended, $buf) = (0, '');
    while ($ended < $n) {
        my $got = sysread($s, $buf, 65536, length $buf);
        last unless $got;
        while (length $buf >= 9) {
            my ($l1, $l2, $type, $flags, $id) = unpack('CnCCN', $buf);
            my $len = ($l1 << 16) | $l2;
            last if length $buf < 9 + $len;
            substr($buf, 0, 9 + $len) = '';
            if ($type == 4 && !($flags & 1)) {
                print $s $frame->(4, 1, 0, '');         # SETTINGS ack
            }
            $ended++ if ($type == 0 || $type == 1) && ($flags & 1);
        }
    }
    close $s;
    return "streams ended: $ended\n";
}

sub control {
    my $path = shift;
    if ($path =~ m{^/ctl/sum/([^/]+)/(\w+)$}) { return hsum($1, $2) . "\n"; }
    if ($path =~ m{^/ctl/until/([^/]+)/(\w+)/(\d+)$}) {
        return hsum_until($1, $2, $3);
    }
    if ($path =~ m{^/ctl/wait(2?)/(\d+)$}) {
        my ($file, $want) = ("burst$1.log", $2);
        my $lines = poll(sub {
            open my $fh, '<', "$DIR/$file" or return [];
            return [ <$fh> ];
        }, sub { @{$_[0]} >= $want }, 300);
        my @lines = @$lines;
        my %n;
        chomp @lines;
        $n{$_}++ for @lines;
        return join '', map { "$_ x$n{$_}\n" } sort keys %n;
    }
    if ($path =~ m{^/ctl/batches$}) { return batches(); }
    if ($path =~ m{^/ctl/h2/(\d+)/(\d+)$}) { return h2_burst($1, $2); }
    if ($path =~ m{^/ctl/reset$}) { redis_cmd('SLOWLOG', 'RESET'); return "reset\n"; }
    return "unknown\n";
}

our $B_BURST = '{"model":"m","max_tokens":1000,"messages":[{"role":"user","content":"hi"}]}';
die "the body of the burst must be 75 bytes" unless length $B_BURST == 75;

redis_setup();

our $MIRRORS = join "\n", map { "    mirror /m1;" } 1 .. 40;
our $SUBS = join "\n", map { "    mirror /s/chat/completions;" } 1 .. 40;

add_block_preprocessor(sub {
    my $block = shift;
    my $c = $block->config // return;
    $c =~ s/^\s*MIRRORS_40$/$MIRRORS/m;
    $c =~ s/^\s*SUBREQUESTS_40$/$SUBS/m;
    $block->set_value(config => $c);
});

run_tests();

__DATA__

=== TEST 1: 40 requests at once, one token budget, batched reservations and settles: exactly 30 served, each answer its own, every reservation sent once, every served request settled once, nothing left reserved
Each request reserves 75 + 1000 tokens and is charged exactly that; the
budget, 30 x 1075 + 100, holds 30 of the 40.  Batches: the requests of
a turn share one call (at least once two did: 40 connections arriving
at once), and the requests over all calls add up: 40 reservations, 30
settles.
--- http_config
log_format burst '$status $llm_total_tokens';
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /b/ {
    llm_budget key=one tokens=32350/d name=batch1;
    include ../../../conf/llm_params;
    access_log $TEST_NGINX_BATCH_DIR/burst.log burst;
}
location /mock/a/v1/ { llm_mock delay=300ms prompt_tokens=75 completion_tokens=1000; }
location = /fire {
    MIRRORS_40
    llm_mock echo=body;
}
location = /m1 { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b/chat/completions; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "POST /fire\n$::B_BURST",
  "GET /ctl/wait/40",
  "POST /b/chat/completions\n$::B_BURST",
  "GET /ctl/until/llm:b:batch1:tokens:*/res/0",
  "GET /ctl/sum/llm:b:batch1:tokens:*/used",
  "GET /ctl/batches" ]
--- more_headers
Content-Type: application/json
--- timeout: 40
--- error_code eval
[200, 200, 429, 200, 200, 200]
--- response_headers_like eval
[ "", "",
  "x-ratelimit-limit-tokens: 32350\nx-ratelimit-remaining-tokens: 100\nRetry-After: [1-9][0-9]*",
  "", "", "" ]
--- response_body_like eval
[ qr/\A\Q$::B_BURST\E\z/,
  qr/\A200 1075 x30\n429 - x10\n\z/,
  qr/Budget \\"batch1\\" is exhausted \(tokens\)/,
  qr/\A0\n\z/, qr/\A32250\n\z/,
  qr/\Areserve: requests 41, most in one call \d+\nsettle: requests 30, most in one call \d+\n\z/ ]
--- no_error_log
[error]
[alert]
[crit]




=== TEST 2: 40 reservations in one turn (40 streams of one HTTP/2 connection, sent at once) go as ONE script call: 30 served, 10 refused, each its own answer; settled once each, nothing left reserved
nginx reads the 40 streams' frames in one go and runs the 40 requests in
the same turn of its event loop: one reservation call, 40 requests in
it, applied in order (the first 30 fit, the last 10 do not).
--- http_config
log_format burst '$status $llm_total_tokens';
llm_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT timeout=3s sync=200ms;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
server {
    listen 127.0.0.1:$TEST_NGINX_H2_PORT http2;
    location /h2/ {
        llm_budget key=two tokens=32350/d name=batch2;
        include ../../../conf/llm_params;
        access_log $TEST_NGINX_BATCH_DIR/burst2.log burst;
    }
}
--- config
location /mock/a/v1/ { llm_mock delay=300ms prompt_tokens=75 completion_tokens=1000; }
location /ctl/ { proxy_pass http://127.0.0.1:$TEST_NGINX_CTL_PORT; proxy_read_timeout 60s; }
--- request eval
[ "GET /ctl/reset",
  "GET /ctl/h2/$ENV{TEST_NGINX_H2_PORT}/40",
  "GET /ctl/wait2/40",
  "GET /ctl/until/llm:b:batch2:tokens:*/res/0",
  "GET /ctl/sum/llm:b:batch2:tokens:*/used",
  "GET /ctl/batches" ]
--- timeout: 40
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
[ qr/\Areset\n\z/,
  qr/\Astreams ended: 40\n\z/,
  qr/\A200 1075 x30\n429 - x10\n\z/,
  qr/\A0\n\z/, qr/\A32250\n\z/,
  qr/\Areserve: requests 40, most in one call 40\nsettle: requests 30, most in one call \d+\n\z/ ]
--- no_error_log
[error]
[alert]
[crit]
