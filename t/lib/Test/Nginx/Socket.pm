package Test::Nginx::Socket;

# Client half of our Test::Nginx re-implementation: turns the request
# sections of a block into bytes on the wire (plain sockets, or curl for
# HTTP/2), parses the responses and runs the assertions.  It subclasses
# Test::Base exactly like the original module, so test files get the
# Test::Base/Test::More functions (plan, blocks, is, like, ...) as well.
#
# Server management lives in Test::Nginx::Util.  POD at the end of the file
# lists the supported sections, environment variables and known gaps.

use strict;
use warnings;

use Test::Base -base;

our $VERSION = '0.33';

use Encode ();
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use File::Temp ();
use IO::Socket::INET ();
use List::Util qw(min);
use POSIX qw(:sys_wait_h SIGKILL);
use Time::HiRes qw(sleep time);
use Test::More ();

use Test::Nginx::Util;

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests run_test repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location use_hup
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_test_cleanup_handler
    add_cleanup_handler add_response_body_check
);

our @ResponseBodyChecks;

$RunTestHelper         = \&run_test_helper;
$CheckErrorLog         = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub set_http_config_filter ($) { $FilterHttpConfig = shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

# Run one assertion, or record it as skipped when the block is a dry run
# (e.g. TEST_NGINX_IGNORE_MISSING_DIRECTIVES found an unknown directive).
sub _skippable ($$$) {
    my ($dry_run, $what, $code) = @_;
    SKIP: {
        Test::More::skip("$what - tests skipped due to $dry_run", 1) if $dry_run;
        $code->();
    }
}

# ---------------------------------------------------------------------------
# Building requests
# ---------------------------------------------------------------------------

# "--- more_headers" text -> ("Name: value\r\n..." , is_chunked)
sub _parse_more_headers ($) {
    my $text = shift;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $text // '') {
        next if $line =~ /^\s*#/ || $line !~ /\S/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc($key) eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Turns a "METHOD [URI [VERSION]]\nbody" request spec, split into packets,
# into a full HTTP/1 request (request line, Host, Connection, more_headers,
# Content-Length) split into the same number of packets.  Packet boundaries
# are carried over: inside the request line they keep their offset, at the
# end of the line they move to the end of the header block, inside the body
# they keep their position relative to the (trimmed) body.
sub _build_request ($$$$$) {
    my ($name, $hdrs, $chunked, $conn, $packets) = @_;

    my $whole = join '', map { $_ // '' } @$packets;
    my $nl = index $whole, "\n";
    my $line_end = $nl < 0 ? length $whole : $nl;          # excl. newline
    my $first_len = $nl < 0 ? length $whole : $nl + 1;     # incl. newline
    my $first = substr $whole, 0, $line_end;

    bail_out("$name - Request line should be non-empty") if $first !~ /\S/;
    $first =~ /^(\s*)(\S+)(?:[ \t]+(\S+))?(?:[ \t]+(\S+))?\s*$/
        or bail_out("$name - Request line is not valid. Should be "
                    . "'meth [url [version]]' but got \"$first\".");
    my ($lead, $meth, $url, $ver) = (length $1, $2, $3 // '/', $4 // 'HTTP/1.1');

    my $content = substr $whole, $first_len;
    my ($trim_lead, $len_header) = (0, '');
    if (!$chunked && $content ne '' && $hdrs !~ /(?:^|\n)Content-Length:/) {
        $trim_lead = length(($content =~ /\A(\s*)/)[0]);
        $content =~ s/^\s+|\s+$//g;
        $len_header = 'Content-Length: ' . length($content) . "\r\n";
    }

    $hdrs =~ s/(?<!\r)\n/\r\n/g;
    my $reqline = "$meth $url $ver";
    my $head = "$reqline\r\n";
    $head .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/mi;
    $head .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/mi;
    $head .= "$hdrs$len_header\r\n";
    my $new = $head . $content;

    return [$new] if @$packets <= 1;

    my (@cuts, $off);
    $off = 0;
    for my $p (@$packets[0 .. $#$packets - 1]) {
        $off += length($p // '');
        my $cut;
        if ($off <= $lead) {
            $cut = 0;
        } elsif ($off < $line_end) {
            $cut = min($off - $lead, length $reqline);
        } elsif ($off <= $first_len) {
            $cut = length $head;
        } else {
            my $c = $off - $first_len - $trim_lead;
            $c = 0 if $c < 0;
            $c = length $content if $c > length $content;
            $cut = length($head) + $c;
        }
        $cut = $cuts[-1] if @cuts && $cut < $cuts[-1];
        push @cuts, $cut;
    }

    my @out;
    my $prev = 0;
    for my $cut (@cuts, length $new) {
        push @out, substr $new, $prev, $cut - $prev;
        $prev = $cut;
    }
    return \@out;
}

# Returns a list of requests; each request is a list of packets
# ({ value => bytes, delay_before => secs }).
sub get_req_from_block ($) {
    my $block = shift;
    my $name = $block->name;
    my @reqs;

    if (defined(my $raw = $block->raw_request)) {
        my @bits = ref $raw eq 'ARRAY' ? @$raw : ($raw);
        return [[ map { ref $_ eq 'HASH' ? { %$_ } : { value => $_ } } @bits ]];
    }

    my $request;
    if (defined $block->request_eval) {
        Test::More::diag("$name - request_eval DEPRECATED. Use request eval instead.");
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        if (defined $request && !ref $request) {
            # leading comment lines and blank space are allowed
            1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//s;
        }
    }

    my $more_headers = $block->more_headers // '';
    my $headers_for = sub {
        my $i = shift;
        my $h = $more_headers;
        if (ref $h eq 'ARRAY') {
            $h = $h->[$i];
            bail_out("--- more_headers lacks data for the request #$i")
                unless defined $h;
        }
        return _parse_more_headers($h);
    };

    if (my $pipelined = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $pipelined eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$pipelined) {
            my $r = expand_env_in_text($pipelined->[$i], $name, undef);
            my ($hdrs, $chunked) = $headers_for->($i);
            my $conn = $i == $#$pipelined ? 'close' : 'keep-alive';
            $all .= _build_request($name, $hdrs, $chunked, $conn, [$r])->[0];
        }
        return [[ { value => $all } ]];
    }

    bail_out("$name - no --- request section specified") unless defined $request;

    my @specs = ref $request eq 'ARRAY' ? @$request : ($request);
    bail_out("$name - invalid --- request: MUST be string or array of requests")
        if ref $request && ref $request ne 'ARRAY';

    for my $i (0 .. $#specs) {
        my $spec = $specs[$i];
        my ($hdrs, $chunked) = $headers_for->($i);
        if (!ref $spec) {
            my $built = _build_request($name, $hdrs, $chunked, 'close', [$spec]);
            push @reqs, [ { value => $built->[0] } ];
        } elsif (ref $spec eq 'ARRAY') {
            my @values = map {
                ref $_ eq 'HASH' ? $_->{value}
                : !ref $_ ? $_
                : bail_out("$name - Invalid syntax. $_ should be a string "
                           . "or hash with value.")
            } @$spec;
            my $built = _build_request($name, $hdrs, $chunked, 'close', \@values);
            my @packets;
            for my $j (0 .. $#$built) {
                my %p = ref $spec->[$j] eq 'HASH' ? %{ $spec->[$j] } : ();
                $p{value} = $built->[$j];
                push @packets, \%p;
            }
            push @reqs, \@packets;
        } else {
            bail_out("$name - Invalid syntax. $spec should be a string or an "
                     . "array of packets.");
        }
    }
    return \@reqs;
}

# ---------------------------------------------------------------------------
# Sending requests
# ---------------------------------------------------------------------------

# Is the nginx we manage still alive?  (Used to give up connecting early.)
sub _server_alive () {
    return 1 if $NoNginxManager;
    if (defined $Test::Nginx::Util::ChildPid) {
        my $r = waitpid($Test::Nginx::Util::ChildPid, WNOHANG);
        return 0 if $r == $Test::Nginx::Util::ChildPid || $r == -1;
        return 1;
    }
    my $pid = Test::Nginx::Util::_read_pid();
    return 1 unless defined $pid;      # pid file not written (yet)
    return is_running($pid);
}

sub _connect ($$) {
    my ($block, $timeout) = @_;
    my $name = $block->name;
    my $addr = $block->server_addr_for_client // $ServerAddr;

    for (my $try = 1; ; $try++) {
        my $sock = IO::Socket::INET->new(
            PeerAddr => $addr,
            PeerPort => $ServerPortForClient,
            Proto    => 'tcp',
            Timeout  => $timeout,
        );
        return $sock if $sock;

        my $err = $!;
        if ($try >= 50 || !_server_alive()) {
            my $tail = '';
            if (!_server_alive()) {
                $tail = "nginx is gone; last lines of error.log:\n"
                        . join '', (split /^/, Test::Nginx::Util::_slurp(
                               $Test::Nginx::Util::ErrLogFile))[-20 .. -1];
            }
            Test::More::fail("$name - Can't connect to $addr:"
                             . "$ServerPortForClient: $err (aborted)");
            Test::More::diag($tail) if $tail =~ /\S/;
            return undef;
        }
        my $wait = min(1, sleep_time() * $try * ($try + 1) / 2);
        warn "$name - Can't connect to $addr:$ServerPortForClient: $err; "
             . "retrying in $wait sec\n" if $wait >= 0.6;
        sleep $wait;
    }
}

# Sends one request (a list of packets) over a fresh connection and reads
# until the server closes it.  $timeout is an inactivity timeout, as in the
# original: expiry fails the test unless the block has --- abort.
sub send_request ($$$$) {
    my ($req, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my $all = join '', map { $_->{value} // '' } @$req;
    my $head_req = $all =~ /^\s*HEAD\s+/ ? 1 : 0;

    if (use_http2($block)) {
        return (send_http_req_by_curl($block, $req, $timeout), $head_req);
    }

    my $sock = _connect($block, $timeout) or return (undef, $head_req);
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @bits = @$req;
    my $buf = (shift @bits)->{value} // '';
    my ($off, $resp, $writing, $reading) = (0, '', 1, 1);
    my $fileno = fileno $sock;

    while ($reading) {
        my $rin = '';
        vec($rin, $fileno, 1) = 1;
        my ($rout, $wout) = ($rin, $writing ? $rin : undef);
        my $n = select($rout, $wout, undef, $timeout);
        if ($n < 0) {
            next if $! == EINTR;
            warn "WARNING: $name - select() failed: $!\n";
            last;
        }
        if ($n == 0) {
            if (defined $block->abort) {
                sleep 0.005;
            } else {
                Test::More::fail("ERROR: client socket timed out - $name");
            }
            last;
        }

        if ($writing && vec($wout, $fileno, 1)) {
            WRITE: while (1) {
                my $rest = length($buf) - $off;
                if ($rest > 0) {
                    my $w = syswrite $sock, $buf, $rest, $off;
                    if (!defined $w) {
                        last WRITE if $! == EAGAIN || $! == EWOULDBLOCK;
                        # keep reading: the server may have answered early
                        warn "WARNING: $name - write failed: $!\n" if verbose();
                        $writing = 0;
                        last WRITE;
                    }
                    $off += $w;
                    next WRITE;
                }
                my $next = shift @bits;
                if (!$next) {
                    $writing = 0;
                    if (defined(my $how = $block->shutdown)) {
                        $how = 1 if $how !~ /\S/;
                        shutdown $sock, $how;
                    }
                    last WRITE;
                }
                my $delay = $next->{delay_before} // $middle_delay;
                sleep $delay if $delay;
                ($buf, $off) = ($next->{value} // '', 0);
            }
        }

        if (vec($rout, $fileno, 1)) {
            while (1) {
                my $r = sysread $sock, my $chunk, 65536;
                if (!defined $r) {
                    last if $! == EAGAIN || $! == EWOULDBLOCK;
                    warn "WARNING: $name - HTTP response read failure: $!\n";
                    $reading = 0;
                    last;
                }
                if ($r == 0) {
                    $reading = 0;
                    last;
                }
                $resp .= $chunk;
            }
        }
    }

    close $sock;
    return ($resp, $head_req);
}

# Builds the curl command line used for HTTP/2 requests.
sub gen_curl_cmd_from_req ($$) {
    my ($block, $req) = @_;
    my $name = $block->name;
    my $all = ref $req ? join('', map { $_->{value} // '' } @$req) : $req;

    my ($meth, $uri, $ver);
    if ($all =~ m{\G\s*(\w+)\s+(\S+)\s+HTTP/(\S+)\r?\n}gc) {
        ($meth, $uri, $ver) = ($1, $2, $3);
    } elsif ($all =~ m{\G\s*(\w+)\s+(.*\S)\s*\r?\n}gc) {
        ($meth, $uri, $ver) = ($1, $2, '0.9');
    } else {
        bail_out("$name - cannot parse the status line in the request: $all");
    }

    # drop curl's default User-Agent/Accept/Host: we send our own headers
    my @args = ('curl', '-i', '-H', 'User-Agent:', '-H', 'Accept:', '-H', 'Host:');
    push @args, verbose() ? '-vv' : '-sS';
    push @args, '--http2-prior-knowledge' if use_http2($block);

    if ($meth eq 'HEAD') {
        push @args, '-I';
    } elsif ($meth ne 'GET') {
        push @args, '-X', $meth;
    }
    push @args, '-0' if $ver ne '1.1' && !use_http2($block);

    my @headers;
    if ($ver ge '1.0') {
        $all =~ m{\G(.*?)\r?\n\r?\n}gcs
            or bail_out("$name - cannot parse the header entries in the request: $all");
        @headers = grep { !/^Connection\s*:/i } split /\r\n/, $1;
    }
    my $has_ctype = grep { /^\s*Content-Type\s*:/i } @headers;
    push @args, map { ('-H', $_) } @headers;

    if ($all =~ m{\G(.+)}gcs) {
        my $file = html_dir() . '/curl.data.bin';
        open my $fh, '>', $file or bail_out("$name - cannot write $file: $!");
        binmode $fh;
        print $fh $1;
        close $fh;
        push @args, '-H', 'Content-Type: ' unless $has_ctype;
        push @args, '--data-binary', "\@$file";
    }

    my $timeout = parse_time($block->timeout) || timeout();
    push @args, '--connect-timeout', $timeout, '--max-time', $timeout;
    push @args, split ' ', $block->curl_options if defined $block->curl_options;

    my $proto = $block->curl_protocol // 'http';
    my $addr = $block->server_addr_for_client // $ServerAddr;
    push @args, "$proto://$addr:$ServerPortForClient$uri";
    return \@args;
}

sub _run_capture ($$) {
    my ($cmd, $timeout) = @_;
    my $out = File::Temp->new(TEMPLATE => 'tn-curl-XXXXXX', TMPDIR => 1);
    my $err = File::Temp->new(TEMPLATE => 'tn-curl-XXXXXX', TMPDIR => 1);
    my $pid = fork;
    die "fork failed: $!" unless defined $pid;
    if (!$pid) {
        $Test::Nginx::Util::InSubprocess = 1;
        open STDIN, '<', '/dev/null';
        open STDOUT, '>&', $out;
        open STDERR, '>&', $err;
        { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
        print STDERR "cannot exec $cmd->[0]: $!\n";
        POSIX::_exit(127);
    }
    my $status = Test::Nginx::Util::_wait_child($pid, $timeout);
    if (!defined $status) {
        kill SIGKILL, $pid;
        waitpid $pid, 0;
        $status = -1;
    }
    return ($status, Test::Nginx::Util::_slurp($out->filename),
            Test::Nginx::Util::_slurp($err->filename));
}

sub send_http_req_by_curl ($$$) {
    my ($block, $req, $timeout) = @_;
    my $name = $block->name;
    my $cmd = gen_curl_cmd_from_req($block, $req);
    warn "running: @$cmd\n" if verbose();

    my ($status, $out, $err) = _run_capture($cmd, $timeout + 5);

    if ($out eq '') {
        if (defined(my $expect = $block->curl_error)) {
            return undef if ref $expect ? $err =~ $expect : index($err, $expect) >= 0;
        }
        if ($err ne '') {
            Test::More::fail("$name - command \"@$cmd\" generates stderr output: $err");
        } else {
            Test::More::fail("$name - curl command \"@$cmd\" generates no stdout output");
        }
        return undef;
    }
    warn "WARNING: $name - command \"@$cmd\" generates stderr output: $err"
        if $err ne '';
    return $out;
}

# ---------------------------------------------------------------------------
# Parsing responses
# ---------------------------------------------------------------------------

{
    # Minimal stand-in for HTTP::Response: status code, ordered headers
    # (case-insensitive lookup, "_" matches "-", repeated headers joined by
    # ", " in scalar context) and the body.
    package Test::Nginx::Socket::Response;

    sub new {
        my ($class, %args) = @_;
        return bless { headers => [], %args }, $class;
    }

    sub code {
        my $self = shift;
        $self->{code} = shift if @_;
        return $self->{code};
    }

    sub message  { $_[0]{message} }
    sub protocol { $_[0]{protocol} }

    sub content {
        my $self = shift;
        $self->{content} = shift if @_;
        return $self->{content};
    }

    sub _norm {
        my $k = lc shift;
        $k =~ tr/_/-/ unless $k =~ /^:/;
        return $k;
    }

    sub header {
        my ($self, $name) = @_;
        my $k = _norm($name);
        my @v = map { $_->[1] } grep { _norm($_->[0]) eq $k } @{ $self->{headers} };
        return @v if wantarray;
        return @v ? join(', ', @v) : undef;
    }

    sub header_field_names {
        my $self = shift;
        my %seen;
        return grep { !$seen{ lc $_ }++ } map { $_->[0] } @{ $self->{headers} };
    }
}

# A malformed response is an extra failing subtest (as in the original);
# control characters are escaped to keep the message on one TAP line.
sub _protocol_error ($$) {
    my ($name, $msg) = @_;
    $msg =~ s/\r/\\r/g;
    $msg =~ s/\n/\\n/g;
    $msg =~ s/([\0-\037])/sprintf('\\x%02x', ord $1)/eg;
    Test::More::fail("$name - $msg");
    return;
}

# Returns ($res, $raw_headers, $leftover_bytes).  A malformed or incomplete
# chunked body is reported as a failed test and yields no response object,
# like the original module does.
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    $raw //= '';

    my $raw_headers = $raw =~ /\A(.*?\r\n)\r\n/s ? $1 : '';

    # status line
    my ($status_line, $pos);
    my $nl = index $raw, "\n";
    if ($nl < 0) {
        ($status_line, $pos) = ($raw, length $raw);
    } else {
        ($status_line, $pos) = (substr($raw, 0, $nl), $nl + 1);
    }
    $status_line =~ s/\r\z//;
    my ($protocol, $code, $message);
    if ($status_line =~ /^\d{3} /) {
        ($code, $message) = split ' ', $status_line, 2;
    } else {
        ($protocol, $code, $message) = split ' ', $status_line, 3;
    }
    undef $code if defined $code && $code !~ /^\d+$/;

    # header fields, up to the first line that is not one
    my @headers;
    pos($raw) = $pos;
    while (1) {
        if ($raw =~ /\G([^\s:]+)[ \t]*: ?([^\n]*)\n?/gc) {
            my ($k, $v) = ($1, $2);
            $v =~ s/\r\z//;
            push @headers, [$k, $v];
        } elsif (@headers && $raw =~ /\G([ \t][^\n]*)\n?/gc) {
            (my $v = $1) =~ s/\r\z//;
            $headers[-1][1] .= "\n$v";
        } else {
            $raw =~ /\G\r?\n/gc;
            last;
        }
    }
    my $body = substr $raw, pos($raw) // $pos;

    my $res = Test::Nginx::Socket::Response->new(
        code => $code, message => $message, protocol => $protocol,
        headers => \@headers, content => $body,
    );

    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $left;
    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if (defined $te && $te eq 'chunked') {
        my $decoded = '';
        pos($body) = 0;
        while (1) {
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*(?:;[^\r\n]*)?\r\n/gc) {
                my $size = hex $1;
                if ($size == 0) {
                    # trailer fields, then the final CRLF
                    1 while $body =~ /\G[^\r\n]+\r\n/gc;
                    $body =~ /\G\r\n/gc
                        or return _protocol_error($name,
                               "invalid chunked data received (expected CRLF).");
                    $left = substr $body, pos($body)
                        if pos($body) < length $body;
                    last;
                }
                if (length($body) - pos($body) < $size) {
                    return _protocol_error($name, "invalid chunked data received "
                        . "(not enought octets for the data section)");
                }
                $decoded .= substr $body, pos($body), $size;
                pos($body) += $size;
                $body =~ /\G\r\n/gc
                    or return _protocol_error($name,
                           "invalid chunked data received (expected CRLF).");
            } elsif ($body =~ /\G(.+)/gcs) {
                return _protocol_error($name, "invalid chunked body received: $1");
            } else {
                return _protocol_error($name, "no last chunk found - $body");
            }
        }
        $res->content($decoded);

    } elsif (defined $len && $len =~ /^\s*(\d+)/) {
        $len = $1;
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($body) . "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }

    return ($res, $raw_headers, $left);
}

# ---------------------------------------------------------------------------
# Assertions on responses
# ---------------------------------------------------------------------------

# With several requests in a block every expectation must be an array.
sub get_indexed_value ($$$$) {
    my ($name, $value, $req_idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$req_idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub check_error_code ($$$$$) {
    my ($block, $res, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';
    _skippable($dry_run, $name, sub {
        if (defined $block->error_code_like) {
            my $pat = get_indexed_value($name, $block->error_code_like,
                                        $req_idx, $need_array);
            Test::More::like($got, qr/$pat/sm, "$name - status code ok");
        } elsif (defined $block->error_code) {
            Test::More::is($got, get_indexed_value($name, $block->error_code,
                                                   $req_idx, $need_array),
                           "$name - status code ok");
        } else {
            Test::More::is($got, 200, "$name - status code ok");
        }
    });
}

sub check_raw_response_headers ($$$$$) {
    my ($block, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;
    if (defined $block->raw_response_headers_like) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_like,
                                    $req_idx, $need_array);
        _skippable($dry_run, "$name - raw_response_headers_like", sub {
            Test::More::like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
        });
    }
    if (defined $block->raw_response_headers_unlike) {
        my $pat = get_indexed_value($name, $block->raw_response_headers_unlike,
                                    $req_idx, $need_array);
        _skippable($dry_run, "$name - raw_response_headers_unlike", sub {
            Test::More::unlike($raw_headers, qr/$pat/s, "$name - raw resp headers unlike");
        });
    }
}

sub check_response_headers ($$$$$$) {
    my ($block, $res, $raw_headers, $dry_run, $req_idx, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->response_headers) {
        my @pairs = parse_headers(get_indexed_value($name, $block->response_headers,
                                                    $req_idx, $need_array));
        for my $pair (@pairs) {
            my ($key, $val) = @$pair;
            if (!defined $val) {
                _skippable($dry_run, "$name - response_headers", sub {
                    Test::More::unlike($raw_headers // '', qr/^\s*\Q$key\E\s*:/msi,
                                       "$name - header $key not present in the raw headers");
                });
                next;
            }
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            my $got = $res ? $res->header($key) : undef;
            _skippable($dry_run, "$name - response_headers", sub {
                Test::More::is($got // '', $val, "$name - header $key ok");
            });
        }
    } elsif (defined $block->response_headers_like) {
        my @pairs = parse_headers(get_indexed_value($name, $block->response_headers_like,
                                                    $req_idx, $need_array));
        for my $pair (@pairs) {
            my ($key, $pat) = @$pair;
            $pat //= '';
            my $got = $res ? $res->header($key) : undef;
            _skippable($dry_run, "$name - response_headers_like", sub {
                Test::More::like($got // '', qr/^$pat$/, "$name - header $key like ok");
            });
        }
    }
}

# --- response_body_filters: names (md5_hex, sha1_hex, uc, lc, ucfirst,
# lcfirst, length) or code refs; a 2-D array gives one list per request.
sub _run_filter ($$$) {
    my ($block, $filter, $content) = @_;
    my $name = $block->name;
    return $filter->($content) if ref $filter eq 'CODE';
    bail_out("$name - the --- response_body_filters section only supports "
             . "subroutine references and strings") if ref $filter;
    my %builtin = (
        md5_hex  => sub { require Digest::MD5; Digest::MD5::md5_hex($_[0]) },
        sha1_hex => sub { require Digest::SHA; Digest::SHA::sha1_hex($_[0]) },
        uc       => sub { uc $_[0] },
        lc       => sub { lc $_[0] },
        ucfirst  => sub { ucfirst $_[0] },
        lcfirst  => sub { lcfirst $_[0] },
        length   => sub { length $_[0] },
    );
    my $f = $builtin{$filter}
        or bail_out("$name - unknown filter, \"$filter\", specified in the "
                    . "--- response_body_filters section");
    return $f->($content);
}

sub transform_response_body ($$$) {
    my ($block, $res, $req_idx) = @_;
    return unless $res && defined $res->content;
    my $filters = $block->response_body_filters;
    return unless defined $filters;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//g;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (@$filters && ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$req_idx];
        bail_out($block->name . " - the --- response_body_filters two-dimensional "
                 . "array does not match request $req_idx") unless $filters;
    }
    my $content = $res->content;
    $content = _run_filter($block, $_, $content) for @$filters;
    $res->content($content);
}

sub check_response_body ($$$$$$) {
    my ($block, $res, $dry_run, $req_idx, $repeated_req_idx, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined(my $file = $block->write_resp_body_file) && $res) {
        open my $out, '>', $file
            or bail_out("$name - failed to write to file '$file': $!");
        print $out $content // '';
        close $out;
    }

    if (defined $block->response_body || defined $block->response_body_eval) {
        if (defined $block->response_body_json_sort && defined $content) {
            require JSON::PP;
            my $js = JSON::PP->new->canonical(1)->loose(1);
            my $obj = eval { $js->decode($content) };
            $content = $js->encode($obj) . "\n" if defined $obj && !$@;
        }

        my $expected;
        if ($block->response_body_eval) {
            Test::More::diag("$name - response_body_eval is DEPRECATED. Use "
                             . "response_body eval instead.");
            $expected = eval get_indexed_value($name, $block->response_body_eval,
                                               $req_idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, $block->response_body,
                                          $req_idx, $need_array);
        }

        Encode::from_to($expected, 'UTF-8', $block->charset)
            if $block->charset && defined $expected && !ref $expected;

        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected = expand_env_in_text($expected, $name, undef);
        }

        my $desc = "$name - response_body - response is expected "
                   . "(repeated req $repeated_req_idx, req $req_idx)";
        _skippable($dry_run, "$name - response_body", sub {
            if (ref $expected) {
                Test::More::like($content, $expected,
                    "$name - response_body - like (repeated req $repeated_req_idx, req $req_idx)");
            } else {
                Test::More::is($content, $expected, $desc);
            }
        });

    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my ($type, $patterns) = defined $block->response_body_like
            ? ('like', $block->response_body_like)
            : ('unlike', $block->response_body_unlike);
        my $pat = get_indexed_value($name, $patterns, $req_idx, $need_array);
        if (!ref $pat) {
            $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $pat =~ s/\$ServerPort\b/$ServerPort/g;
        }
        my $summary = trim($content) // '';
        $summary = substr($summary, 0, 200) . '...' if length $summary > 200;
        _skippable($dry_run, "$name - response_body_$type", sub {
            my $desc = "$name - response_body_$type - response is expected ($summary)";
            if ($type eq 'like') {
                Test::More::like($content, qr/$pat/s, $desc);
            } else {
                Test::More::unlike($content, qr/$pat/s, $desc);
            }
        });
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $res ? $res->content : undef, $req_idx,
                 $repeated_req_idx, $dry_run);
    }
}

# ---------------------------------------------------------------------------
# Assertions on logs
# ---------------------------------------------------------------------------

# A section value (text with one pattern per line, a qr//, or an array of
# strings and qr//s) -> list of patterns.
sub _patterns ($) {
    my $pats = shift;
    return () unless defined $pats;
    if (!ref $pats) {
        chomp $pats;
        return split /\n+/, $pats;
    }
    return ($pats) if ref $pats eq 'Regexp';
    return grep { defined } @$pats;
}

sub _line_matches ($$) {
    my ($line, $pat) = @_;
    return ref $pat ? scalar($line =~ $pat) : index($line, $pat) >= 0;
}

sub _value_mentions ($$) {
    my ($val, $str) = @_;
    return 0 unless defined $val;
    return grep { !ref $_ ? index($_, $str) >= 0 : "$_" =~ /\Q$str\E/ }
           (ref $val eq 'ARRAY' ? @$val : ($val));
}

sub fmt_str ($) {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# Each pattern must match at least one line: one test per pattern.
# $desc is the test name prefix, $where e.g. "error.log (req 0)".
sub _check_log_present ($$$$$$) {
    my ($lines, $pats, $dry_run, $what, $desc, $where) = @_;
    for my $pat (_patterns($pats)) {
        my $found = grep { _line_matches($_, $pat) } @$lines;
        _skippable($dry_run, $what, sub {
            if ($found) {
                Test::More::pass("$desc - pattern \"$pat\" matches a line in $where");
            } else {
                Test::More::fail("$desc - pattern \"$pat\" should match a line in $where");
            }
        });
    }
}

# No pattern may match any line: one test per pattern.
sub _check_log_absent ($$$$$$) {
    my ($lines, $pats, $dry_run, $what, $desc, $where) = @_;
    for my $pat (_patterns($pats)) {
        my $p = fmt_str("$pat");
        my ($idx) = grep { _line_matches($lines->[$_], $pat) } 0 .. $#$lines;
        _skippable($dry_run, $what, sub {
            if (!defined $idx) {
                Test::More::pass("$desc - pattern \"$p\" does not match a line in $where");
                return;
            }
            my $ln = fmt_str($lines->[$idx]);
            my $last = min($idx + 9, $#$lines);
            Test::More::fail("$desc - pattern \"$p\" should not match any line in "
                             . "$where but matches line \"$ln\"");
            Test::More::diag(join '', @$lines[$idx + 1 .. $last]) if $last > $idx;
        });
    }
}

sub check_error_log ($$$$;$$) {
    my ($block, $res, $dry_run, $repeated_req_idx, $need_array, $extra) = @_;
    my $name = $block->name;

    my $lines = error_log_data();
    push @$lines, @$extra if $extra;
    my $where = "error.log (req $repeated_req_idx)";

    if (defined(my $grep = $block->grep_error_log)) {
        $grep = $grep->[$repeated_req_idx] if ref $grep eq 'ARRAY';
        my $expected = $block->grep_error_log_out;
        bail_out("$name - No --- grep_error_log_out defined but --- "
                 . "grep_error_log is defined") unless defined $expected;
        $expected = $expected->[$repeated_req_idx] if ref $expected eq 'ARRAY';
        $expected = expand_env_in_text($expected, $name, undef) unless ref $expected;
        my $matched = '';
        for my $line (@$lines) {
            if (ref $grep ? $line =~ $grep : $line =~ /\Q$grep\E/) {
                $matched .= "$&\n" if $& !~ /\n/;
            }
        }
        _skippable($dry_run, "$name - grep_error_log", sub {
            is_str($matched, $expected, "$name - grep_error_log_out (req $repeated_req_idx)");
        });
    } elsif (defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but --- "
                 . "grep_error_log_out is defined");
    }

    _check_log_present($lines, $block->error_log, $dry_run,
                       "$name - error_log", $name, $where);
    _check_log_absent($lines, $block->no_error_log, $dry_run,
                      "$name - no_error_log", $name, $where);

    return if $dry_run;

    # Loud warnings for serious messages nobody asserted on.
    my @mentioned = ($block->error_log, $block->no_error_log);
    for my $level (qw(alert crit emerg)) {
        next if grep { _value_mentions($_, "[$level") } @mentioned;
        for my $line (@$lines) {
            warn "WARNING: $name - " . fmt_str($line) . "\n" if $line =~ /\[$level\]/;
        }
    }

    for my $line (@$lines) {
        if ($line =~ /\bAssertion .*?failed\b/) {
            chomp(my $l = $line);
            Test::More::fail("$name - $l");
        }
    }
}

sub check_access_log ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;
    return unless defined $block->access_log || defined $block->no_access_log;
    my $lines = access_log_data();
    my $where = "access.log (req $repeated_req_idx)";
    _check_log_present($lines, $block->access_log, $dry_run,
                       "$name - access_log", $name, $where);
    _check_log_absent($lines, $block->no_access_log, $dry_run,
                      "$name - no_access_log", $name, $where);
}

# Run once nginx of the block has been stopped (next block or END).
sub check_shutdown_error_log ($$) {
    my ($block, $dry_run) = @_;
    my $name = $block->name;
    $dry_run = $dry_run ? 'dry run' : 0;
    my $lines = error_log_data();
    my $where = "error.log";
    _check_log_present($lines, $block->shutdown_error_log, $dry_run,
                       "$name - shutdown_error_log", $name, $where);
    _check_log_absent($lines, $block->no_shutdown_error_log, $dry_run,
                      "$name - no_shutdown_error_log", $name, $where);
}

# ---------------------------------------------------------------------------
# Per-block request/response cycle
# ---------------------------------------------------------------------------

sub run_test_helper ($$$) {
    my ($block, $dry_run, $repeated_req_idx) = @_;
    my $name = $block->name;

    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") unless @$reqs;

    if (defined $block->curl) {
        my $cmd = gen_curl_cmd_from_req($block, $reqs->[0]);
        warn "# @$cmd\n";
    }

    my $timeout = parse_time($block->timeout) || timeout();
    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : @$reqs > 1;
    my $n_responses = $pipelined ? scalar @$pipelined : scalar @$reqs;

    my $req_idx = 0;
    my ($res, $left);

    for my $req (@$reqs) {
        my ($raw_resp, $head_req);
        if ($dry_run) {
            $raw_resp = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        } else {
            ($raw_resp, $head_req) = send_request($req, $block->raw_request_middle_delay,
                                                  $timeout, $block);
        }
        $raw_resp //= '';

        # pipelined requests: all responses arrive on the one connection
        my $count = $pipelined ? $n_responses : 1;
        for my $k (1 .. $count) {
            my $raw_headers;
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    $res = Test::Nginx::Socket::Response->new(code => 200,
                                                               content => $raw_resp);
                    ($raw_headers, $left) = ('', undef);
                } else {
                    ($res, $raw_headers, $left) = parse_response($name, $raw_resp, $head_req);
                }

                if ($k < $count) {
                    $raw_resp = $left // '';
                } elsif (defined $left && $left ne '') {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last chunk "
                         . "in response: \"$l\"\n";
                }

                check_error_code($block, $res, $dry_run, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $dry_run,
                                           $req_idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $dry_run,
                                       $req_idx, $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $dry_run, $req_idx,
                                    $repeated_req_idx, $need_array);
            }

            # the log assertions hold for every request of the block
            if (my $wait = parse_time($block->wait)) {
                sleep $wait;
            }
            check_error_log($block, $res, $dry_run, $repeated_req_idx, $need_array);
            check_access_log($block, $dry_run, $repeated_req_idx)
                unless defined $block->ignore_response;
            $req_idx++;
        }
    }
}

1;
__END__

=encoding utf-8

=head1 NAME

Test::Nginx::Socket - local re-implementation of the test-nginx scaffold

=head1 SYNOPSIS

    use Test::Nginx::Socket 'no_plan';
    # or: use Test::Nginx::Socket; plan tests => repeat_each() * (blocks() * 3);

    no_shuffle();
    run_tests();

    __DATA__

    === TEST 1: hello
    --- config
        location = /t { return 200 "hello\n"; }
    --- request
    GET /t
    --- response_body
    hello
    --- no_error_log
    [error]

Run with C<prove -I t/lib t/foo.t> from the repository root.

=head1 DESCRIPTION

A self-contained implementation (Test::Base is the only non-core
dependency) of the documented behaviour of
L<Test::Nginx::Socket|https://github.com/openresty/test-nginx>, so that
test files run unchanged under either module.  The generated F<nginx.conf>
keeps the original line layout (the block's C<--- config> starts on line
39 when there is no main_config/http_config/env_to_nginx), so
C<nginx.conf:NN> positions in error messages agree.

The number of subtests per block matches the original: one status-code test
per response, one per C<response_headers> entry, one for the body, one per
C<error_log>/C<no_error_log> pattern per request, etc.

=head2 Sections

Server: C<main_config>, C<post_main_config>, C<http_config>, C<config>
(omitted: reuse the running server), C<server_name>, C<log_level>,
C<error_log_file>, C<user_files> (text or eval array, optional mtime),
C<post_setup_server_root>, C<init>, C<must_die> (optionally with an exit
code; C<error_log>/C<no_error_log> then see the error log I<and> nginx's
stderr), C<suppress_stderr>, C<reload_fails>.

Requests: C<request> (string or eval'd array of requests, each a string or
an array of packets C<{ value, delay_before }>), C<request_eval>,
C<raw_request>, C<raw_request_middle_delay>, C<pipelined_requests>,
C<more_headers> (string or array), C<timeout> (C<s>/C<ms>), C<abort>,
C<shutdown>, C<wait>, C<http2> / C<no_http2>, C<curl>, C<curl_options>,
C<curl_protocol>, C<curl_error>, C<server_addr_for_client>, C<http09>,
C<ignore_response>.

Checks: C<error_code>, C<error_code_like>, C<response_body>,
C<response_body_eval>, C<response_body_like>, C<response_body_unlike>,
C<response_body_filters>, C<response_body_json_sort>, C<charset>,
C<write_resp_body_file>, C<response_headers> (C<Name: value>, C<!Name>),
C<response_headers_like>, C<raw_response_headers_like>,
C<raw_response_headers_unlike>, C<error_log>, C<no_error_log>,
C<grep_error_log>, C<grep_error_log_out>, C<access_log>,
C<no_access_log>, C<shutdown_error_log>, C<no_shutdown_error_log>.

Mock upstream: C<tcp_listen>, C<tcp_reply> (string, array or code ref),
C<tcp_reply_delay>, C<tcp_query>, C<tcp_query_len>,
C<tcp_query_auto_timeout>, C<tcp_no_close>, C<tcp_shutdown>.

Skipping: Test::Base's C<ONLY>, C<SKIP>, C<LAST>; C<skip_nginx>,
C<skip_nginx2>, C<skip_openssl>, C<skip_eval>, C<todo>, C<todo_nginx>.

=head2 Environment

C<TEST_NGINX_BINARY>, C<TEST_NGINX_SERVER_PORT>, C<TEST_NGINX_PORT>,
C<TEST_NGINX_CLIENT_PORT>, C<TEST_NGINX_SERVROOT>, C<TEST_NGINX_LOAD_MODULES>,
C<TEST_NGINX_USE_HUP>, C<TEST_NGINX_USE_HTTP2>, C<TEST_NGINX_USE_VALGRIND>,
C<TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR>, C<TEST_NGINX_NO_CLEAN>,
C<TEST_NGINX_NO_SHUFFLE>, C<TEST_NGINX_NO_NGINX_MANAGER>,
C<TEST_NGINX_LOG_LEVEL>, C<TEST_NGINX_MASTER_PROCESS>, C<TEST_NGINX_TIMEOUT>,
C<TEST_NGINX_SLEEP>, C<TEST_NGINX_FAST_SHUTDOWN>,
C<TEST_NGINX_FORCE_RESTART_ON_TEST>, C<TEST_NGINX_CHECK_ACCUM_ERR_LOG>,
C<TEST_NGINX_IGNORE_MISSING_DIRECTIVES>, C<TEST_NGINX_ERROR_LOG>,
C<TEST_NGINX_EVENT_TYPE>, C<TEST_NGINX_POSTPONE_OUTPUT>,
C<TEST_NGINX_REUSE_PORT>, C<TEST_NGINX_WORKER_USER>, C<TEST_NGINX_LD_PRELOAD>,
C<TEST_NGINX_RANDOMIZE>, C<TEST_NGINX_VERBOSE>.  Every C<$TEST_NGINX_*>
variable is substituted in the config sections, C<user_files>,
C<pipelined_requests> and expected bodies; C<$TEST_NGINX_RAND_PORT_N> gives a
free port.  C<TEST_NGINX_SERVER_PORT> and C<TEST_NGINX_SERVER_ROOT> are
exported to the environment; like the original, C<TEST_NGINX_HTML_DIR> is
I<not> (tests set it with C<< $ENV{TEST_NGINX_HTML_DIR} ||= html_dir(); >>).

=head2 Valgrind

With C<TEST_NGINX_USE_VALGRIND=1> nginx runs in the foreground (C<daemon off>,
as our child) under C<valgrind -q --tool=memcheck --leak-check=full
--show-possibly-lost=no --num-callers=30 --gen-suppressions=all
--log-file=SERVROOT/logs/valgrind.%p.log>, plus C<--suppressions=> for
F<valgrind.suppress> and F<t/valgrind.suppress> when they exist; a
non-numeric value replaces the memcheck options.  Startup may take up to
120 s.  Leak reports only exist once nginx exits, so the reports are checked
when the server is stopped (by the next block that restarts it, or at the
end): if one contains an error (invalid read/write/free, uninitialised
value, definitely/possibly lost, ...) an extra failing subtest
"TEST NAME - valgrind clean" is emitted with the report as diagnostics.  A
clean run adds no subtests, so plans stay valid.  C<must_die> blocks never
run under valgrind, and valgrind wins over C<TEST_NGINX_USE_HUP>.

=head2 Differences from the original

Not implemented: stap, check-leak, benchmark, HTTP/3, UDP mock server, rr,
C<TEST_NGINX_INIT_BY_LUA> (Test::Nginx::Socket::Lua).

Deliberate deviations (none makes a test pass here that fails there,
except the first):

=over

=item * C<must_die>: C<error_log>/C<no_error_log> also see what nginx
printed on stderr, not only F<error.log>.

=item * C<http2 on;> is generated for nginx E<gt>= 1.25.1 only (older ones
get C<listen ... http2>); the original switches at 1.19.9, which makes
C<--- http2> blocks fail to start on nginx 1.22.

=item * HUP mode waits until the old workers stop accepting connections,
not just for a few answers from the new configuration (nginx lets old and
new workers accept side by side for ~100 ms).

=item * Pids from the pid file are checked to be nginx (via F</proc>)
before being signalled; zombie processes count as exited (the original
waits for them until its timeout).

=item * A failed nginx start is retried only for "Address already in use";
other errors bail out at once (the original retries anything for 30 s).

=item * C<TEST_NGINX_POSTPONE_OUTPUT> works in every mode (the original only
emits it in HUP mode).

=item * C<!Name> in C<response_headers> matches the raw header name
case-insensitively; entries are checked in the order written.

=item * C<no_error_log> emits one failing subtest per pattern, not one per
matching line.

=item * C<TEST_NGINX_LOAD_MODULES> C<load_module> lines are put on the
C<main_config> line (as in the original) so that line numbers don't move.

=back

A truncated or malformed chunked response is reported like the original
does: an extra failing subtest ("no last chunk found - ...", "invalid
chunked data received ...") and no response object, so the status and body
checks fail too.  To test an upstream abort, use C<ignore_response> with
C<error_log>.

=cut
