# What the Redis test files share (t/170, 171, 173, 175): a redis-server
# of their own, Redis spoken by hand, a control server the blocks drive
# at run time, more nginx nodes, and all of it stopped when the file
# ends.  Loaded with  require './t/redis.pl';  (a path, not @INC: the
# files run from the repository's root, as Test::Nginx wants).
#
# The file sets, before loading it:
#   $P      TEST_NGINX_PORT (1984 by default)
#   $RPORT  Redis' port; $CPORT the control server's (if it runs one)
#   $DIR    a directory of its own, made afresh and removed at the end
#   $PASS   Redis' password (undef: none)
#   @REDIS_ARGS  more redis-server arguments
# and defines control($path) if it starts the control server (the fleet
# files' one calls fleet_control($path), the /ctl/ paths they share).

use POSIX ();
use IO::Socket::INET;

our ($MAIN, $P, $RPORT, $CPORT, $DIR, $PASS, @REDIS_ARGS, %KIDS, $RPID,
     @NPORT);

$MAIN = $$;

sub port_up {
    my $port = shift;
    for (1 .. 200) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port");
        if ($s) { close $s; return 1; }
        select undef, undef, undef, 0.05;
    }
    return 0;
}

# f() until ok(its result), 10 s at most: the last result
sub poll {
    my ($f, $ok, $tries) = @_;
    my $got;
    for (1 .. ($tries // 100)) {
        $got = $f->();
        last if $ok->($got);
        select undef, undef, undef, 0.1;
    }
    return $got;
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

# no persistence but what a block saves itself (SAVE, loaded on restart)
sub redis_start {
    $RPID = spawn('redis-server', '--port', $RPORT, '--bind', '127.0.0.1',
                  '--save', '', '--appendonly', 'no', '--dir', $DIR,
                  (defined $PASS ? ('--requirepass', $PASS) : ()),
                  @REDIS_ARGS);
    port_up($RPORT) or die "redis-server did not start on $RPORT";
}

sub redis_kill {
    return unless $RPID;
    kill 'KILL', $RPID;
    waitpid $RPID, 0;
    $RPID = undef;
}

# one command, RESP by hand (no client library needed): its reply
sub redis_cmd {
    my @args = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$RPORT",
                                  Timeout => 5) or return undef;
    my @cmds = ((defined $PASS ? (['AUTH', $PASS]) : ()), [@args]);
    print $s join '', map {
        my $c = $_;
        '*' . @$c . "\r\n"
        . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c)
    } @cmds;
    my $reply;
    $reply = read_reply($s) for @cmds;
    close $s;
    return $reply;
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
        return undef if $v < 0;
        return [ map { read_reply($s) } 1 .. $v ];
    }
    return undef;
}

# DEBUG SLEEP: Redis' reply comes when it wakes up, a child waits for it
sub redis_pause {
    my $secs = shift;
    my $pid = fork // return "fork failed\n";
    if ($pid == 0) { redis_cmd('DEBUG', 'SLEEP', $secs); POSIX::_exit(0); }
    select undef, undef, undef, 0.2;
    return "paused\n";
}

# a field summed over the hashes whose keys match
sub hsum {
    my ($pattern, $field) = @_;
    my $keys = redis_cmd('KEYS', $pattern) // [];
    my $sum = 0;
    $sum += (redis_cmd('HGET', $_, $field) // 0) for @$keys;
    return $sum;
}

# until the sum is $want (10 s at most): the last sum, as a line
sub hsum_until {
    my ($pattern, $field, $want) = @_;
    return poll(sub { hsum($pattern, $field) }, sub { $_[0] == $want })
           . "\n";
}

# GET /ctl/...: the body control($path) returns, as text/plain
sub control_server {
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:$CPORT",
                                  Listen => 16, ReuseAddr => 1)
        or die "control server: $!";
    # a Redis it started again (/ctl/start) is its own to stop
    $SIG{TERM} = sub { redis_kill(); POSIX::_exit(0) };
    while (my $c = $l->accept) {
        my $req = <$c> // next;
        while (my $h = <$c>) { last if $h =~ /^\r?\n\z/; }
        my ($path) = $req =~ m{^\S+ (\S+)};
        my $body = main::control($path // '');
        print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body";
        close $c;
    }
}

# the nodes' access logs ($DIR/n1.log ...), one after the other
sub burst_lines {
    my $out = '';
    for my $n (1 .. 3) {
        open my $fh, '<', "$DIR/n$n.log" or next;
        $out .= join '', <$fh>;
    }
    return $out;
}

# GET /ctl/<what> of the fleet files (t/171, t/176): the body, or undef
# for a path it does not know
sub fleet_control {
    my $path = shift;
    if ($path =~ m{^/ctl/kill$}) { redis_kill(); return "killed\n"; }
    if ($path =~ m{^/ctl/start$}) { redis_start(); return "started\n"; }
    if ($path =~ m{^/ctl/pause/(\d+)$}) { return redis_pause($1); }
    if ($path =~ m{^/ctl/ping$}) {
        my $r = poll(sub { redis_cmd('PING') },
                     sub { ($_[0] // '') eq 'PONG' });
        return ($r // '') eq 'PONG' ? "PONG\n" : "no pong\n";
    }
    if ($path =~ m{^/ctl/sum/([^/]+)/(\w+)$}) { return hsum($1, $2) . "\n"; }
    if ($path =~ m{^/ctl/until/([^/]+)/(\w+)/(\d+)$}) {
        return hsum_until($1, $2, $3);
    }
    if ($path =~ m{^/ctl/wait/(\d+)$}) {
        my $want = $1;
        my $log = poll(\&burst_lines, sub { ($_[0] =~ tr/\n//) >= $want },
                       300);
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
        $what =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        my $line = poll(sub {
            open my $fh, '<', "$DIR/node$n/logs/error.log" or return undef;
            my ($line) = grep { index($_, $what) >= 0 } <$fh>;
            return $line;
        }, sub { defined $_[0] });
        return $line // "not found\n";
    }
    if ($path =~ m{^/ctl/nodelog/(\d)$}) {
        open my $fh, '<', "$DIR/node$1/logs/error.log" or return "none\n";
        return join '', grep { !/\[debug\]/ } <$fh>;
    }
    return undef;
}


# The fleet files' (t/171, t/176) ports, Redis' password and arguments,
# their directory (/tmp/llm-$name-P), and the environment their blocks
# read: node 1 is Test::Nginx's nginx on P, nodes 2 and 3 on P+4, P+5
sub fleet_setup {
    my $name = shift;
    $P = $ENV{TEST_NGINX_PORT} || 1984;
    $RPORT = $P + 1;
    $CPORT = $P + 3;
    @NPORT = ($P, $P + 4, $P + 5);
    $PASS = 'fleet-secret';
    $DIR = "/tmp/llm-$name-$P";
    @REDIS_ARGS = ('--enable-debug-command', 'yes');
    $ENV{TEST_NGINX_REDIS_PORT} = $RPORT;
    $ENV{TEST_NGINX_REDIS_PASSWORD} = $PASS;
    $ENV{TEST_NGINX_CTL_PORT} = $CPORT;
    $ENV{TEST_NGINX_NODE2_PORT} = $NPORT[1];
    $ENV{TEST_NGINX_NODE3_PORT} = $NPORT[2];
    $ENV{TEST_NGINX_FLEET_DIR} = $DIR;
}

# The fleet files' burst: $B_BURST, a 75-byte chat request, and a
# config line MIRRORS_3x40 that becomes 40 mirrors to each of /m1, /m2
# and /m3 (one location per node), firing 120 requests at once
sub fleet_burst {
    our $B_BURST = '{"model":"m","max_tokens":1000,"messages":'
                   . '[{"role":"user","content":"hi"}]}';
    die "the body of the burst must be 75 bytes" unless length $B_BURST == 75;
    my $mirrors = join "\n",
                       map { my $n = $_; map { "    mirror /m$n;" } 1 .. 40 }
                       1 .. 3;
    add_block_preprocessor(sub {
        my $block = shift;
        my $c = $block->config // return;
        $c =~ s/^\s*MIRRORS_3x40$/$mirrors/m;
        $block->set_value(config => $c);
    });
}

# $DIR afresh, Redis, and the control server if $CPORT is set
sub redis_setup {
    system('rm', '-rf', $DIR);
    mkdir $DIR or die "$DIR: $!";
    redis_start();
    return unless $CPORT;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) { control_server(); POSIX::_exit(0); }
    $KIDS{$pid} = 'control';
    port_up($CPORT) or die "control server did not start";
}

# node $n's nginx.conf: its http{} block's own lines in one
sub node_conf_around {
    my ($n, $connections, $http) = @_;
    my ($router) = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
    my $root = "$DIR/node$n";
    return <<"_EOC_";
daemon off;
master_process on;
worker_processes 2;
pid $root/logs/nginx.pid;
error_log $root/logs/error.log info;
load_module $router;
events { worker_connections $connections; }
http {
    access_log off;
    client_body_temp_path $root/client_body_temp;
    proxy_temp_path $root/proxy_temp;
    fastcgi_temp_path $root/fastcgi_temp;
    uwsgi_temp_path $root/uwsgi_temp;
    scgi_temp_path $root/scgi_temp;
$http}
_EOC_
}

# node $n: nginx with this configuration, in $DIR/node$n, on $port
sub node_start {
    my ($n, $port, $conf) = @_;
    my $root = "$DIR/node$n";
    mkdir $root; mkdir "$root/logs"; mkdir "$root/conf";
    open my $fh, '>', "$root/conf/nginx.conf" or die "$root: $!";
    print $fh $conf;
    close $fh;
    my $pid = spawn($ENV{TEST_NGINX_BINARY} // 'nginx', '-p', "$root/",
                    '-c', "$root/conf/nginx.conf",
                    '-e', "$root/logs/error.log");
    $KIDS{$pid} = "node$n";
    port_up($port) or die "node $n did not start";
}

sub stop_all {
    return unless $$ == $MAIN;
    local $?;    # END: waitpid must not change the file's exit code
    for my $pid (keys %KIDS) {
        kill $KIDS{$pid} =~ /^node/ ? 'QUIT' : 'TERM', $pid;
    }
    for my $pid (keys %KIDS) { waitpid $pid, 0; }
    %KIDS = ();
    redis_kill();    # not the one the control server started: ours
    system('rm', '-rf', $DIR) if defined $DIR;
}

END { stop_all() }
$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 1 };

1;
