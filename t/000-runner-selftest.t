# Self-test of the test scaffold (t/lib/Test/Nginx/*.pm) using only stock
# nginx directives.  Every block carries a "selftest_count" section with the
# number of subtests the original Test::Nginx::Socket emits for it (per
# repetition), so the plan below also checks that we count like it does.
#
#   prove -I t/lib t/000-runner-selftest.t

use Test::Nginx::Socket;
use List::Util qw(sum);

repeat_each(2);
no_shuffle();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_SELFTEST_TAG} = 'tagged';

# --- unit tests of the HTTP/1 parsing and request building -----------------

my $unit_tests = 12;

plan tests => repeat_each() * sum(map { $_->selftest_count } blocks())
              + $unit_tests;

SKIP: {
    # these poke at internals of our implementation only
    skip 'not our Test::Nginx implementation', $unit_tests
        unless Test::Nginx::Socket->can('_build_request');

    my @errors;
    no warnings 'redefine';
    local *Test::Nginx::Socket::_protocol_error = sub { push @errors, $_[1]; return };

    my ($res, $raw_headers, $left) = Test::Nginx::Socket::parse_response('unit',
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
        . "5\r\nhello\r\n1;ext=1\r\n!\r\n0\r\n\r\n", 0);
    is $res->content, 'hello!', 'unit: chunked body decoded';
    is $res->header('X-A'), '1, 2', 'unit: repeated headers joined';
    is $raw_headers, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nx-a: 2\r\n",
        'unit: raw headers';

    ($res) = Test::Nginx::Socket::parse_response('unit',
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0);
    ok !defined $res, 'unit: truncated chunked body yields no response';
    like "@errors", qr/no last chunk found/, 'unit: truncated chunked body reported';

    @errors = ();
    Test::Nginx::Socket::parse_response('unit',
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\nhello", 0);
    like "@errors", qr/not enought octets/, 'unit: short chunk reported';

    ($res, undef, $left) = Test::Nginx::Socket::parse_response('unit',
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204", 0);
    is $res->content, 'abc', 'unit: content-length body';
    is $left, 'HTTP/1.1 204', 'unit: bytes after the body are left over';

    my $pkts = Test::Nginx::Socket::_build_request('unit', "X-A: b\r\n", 0, 'close',
                                                   ["POST /p\n  he", "llo  \n"]);
    is_deeply $pkts, ["POST /p HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
                      . "X-A: b\r\nContent-Length: 5\r\n\r\nhe", "llo"],
        'unit: request built and packet boundary kept';

    $pkts = Test::Nginx::Socket::_build_request('unit', '', 0, 'keep-alive',
                                                ["GE", "T /x HTTP/1.0\n"]);
    is_deeply $pkts, ["GE", "T /x HTTP/1.0\r\nHost: localhost\r\n"
                            . "Connection: keep-alive\r\n\r\n"],
        'unit: split request line';

    my @h = Test::Nginx::Util::parse_headers("B: 2\n!C\nA:\n");
    is_deeply \@h, [['B', '2'], ['C', undef], ['A', '']], 'unit: parse_headers';

    is Test::Nginx::Util::parse_time('250ms'), 0.25, 'unit: parse_time';
}

run_tests();

__DATA__

=== TEST 1: sanity
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- no_error_log
[error]
[alert]
--- selftest_count: 4



=== TEST 2: error code and body regex
--- config
    location = /gone {
        return 410;
    }
--- request
    GET /gone
--- error_code: 410
--- response_body_like: 410 Gone
--- selftest_count: 2



=== TEST 3: response headers, absent headers, raw headers
--- no_http2
--- config
    location = /hdr {
        add_header X-Foo bar;
        add_header X-Dup one;
        add_header X-Dup two;
        return 200 "ok\n";
    }
--- request
GET /hdr
--- response_headers
X-Foo: bar
X-Dup: one, two
!X-Missing
Content-Type: text/plain
--- raw_response_headers_like: X-Foo: bar\r\n
--- raw_response_headers_unlike: X-Missing
--- response_body
ok
--- selftest_count: 8



=== TEST 4: response_headers_like
--- config
    location = /hdr {
        return 200 "ok\n";
    }
--- request
GET /hdr
--- response_headers_like
Server: nginx(/[\d.]+)?
Content-Length: \d
--- selftest_count: 3



=== TEST 5: more_headers are sent
--- config
    location = /echo-header {
        return 200 "foo=$http_x_foo, bar=$http_x_bar\n";
    }
--- more_headers
X-Foo: blah
# a comment line
X-Bar: baz
--- request
GET /echo-header
--- response_body
foo=blah, bar=baz
--- selftest_count: 2



=== TEST 6: request body (Content-Length computed, body trimmed)
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/body;
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $content_length;
    }
    location = /body {
        return 200 "got: $http_x_body ($http_x_len)\n";
    }
--- request
POST /echo
hello world
--- response_body
got: hello world (11)
--- no_error_log
[error]
--- selftest_count: 3



=== TEST 7: request split into packets with a delay
--- config
    location = /echo {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/body;
        proxy_set_header X-Body $request_body;
    }
    location = /body {
        return 200 "got: $http_x_body\n";
    }
--- request eval
[["POST /echo\nhel", {value => "lo", delay_before => 0.1}]]
--- response_body
got: hello
--- selftest_count: 2



=== TEST 8: several requests in one block
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request eval
["GET /t", "GET /nope"]
--- error_code eval
[200, 404]
--- response_body_like eval
["^hello\$", "404 Not Found"]
--- error_log eval
[qr/http (request|finalize)/]
--- selftest_count: 6



=== TEST 9: pipelined requests on one connection
--- config
    location = /a {
        return 200 "first\n";
    }
    location = /b {
        return 201 "second\n";
    }
--- pipelined_requests eval
["GET /a", "GET /b"]
--- error_code eval
[200, 201]
--- response_body eval
["first\n", "second\n"]
--- selftest_count: 4



=== TEST 10: chunked response (sub_filter drops Content-Length)
--- no_http2
--- config
    location = /chunked {
        sub_filter_types text/plain;
        sub_filter 'world' 'there';
        return 200 "hello world\n";
    }
--- request
GET /chunked
--- raw_response_headers_like: Transfer-Encoding: chunked\r\n
--- response_body
hello there
--- selftest_count: 3



=== TEST 11: HTTP/1.0 response delimited by connection close
--- config
    location = /chunked {
        sub_filter_types text/plain;
        sub_filter 'world' 'there';
        return 200 "hello world\n";
    }
--- request
GET /chunked HTTP/1.0
--- raw_response_headers_unlike: (?i)Transfer-Encoding|Content-Length
--- response_body
hello there
--- selftest_count: 3



=== TEST 12: raw_request is sent verbatim
--- config
    location = /t {
        return 200 "raw $request_method $server_protocol\n";
    }
--- raw_request eval
"PUT /t HTTP/1.0\r\nHost: raw\r\nContent-Length: 0\r\n\r\n"
--- response_body
raw PUT HTTP/1.0
--- selftest_count: 2



=== TEST 13: HEAD request
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
HEAD /t
--- response_headers
Content-Length: 6
--- response_body
--- selftest_count: 3



=== TEST 14: http2 via curl
--- http2
--- config
    location = /h2 {
        add_header X-Proto $server_protocol;
        return 200 "over h2\n";
    }
--- request
GET /h2
--- response_headers
X-Proto: HTTP/2.0
--- response_body
over h2
--- selftest_count: 3



=== TEST 15: must_die with the config position of the bad directive
--- config
    location = /t {
        bogus_directive on;
    }
--- must_die
--- error_log eval
[
    qr/\[emerg\] .*unknown directive "bogus_directive"/,
    "unknown directive \"bogus_directive\" in $ENV{TEST_NGINX_SERVER_ROOT}/conf/nginx.conf:40",
    qr{\[emerg\] .*unknown directive "bogus_directive" in \S+/nginx\.conf:40$},
]
--- no_error_log
[crit]
--- selftest_count: 5



=== TEST 16: must_die with an exit code
--- http_config
    upstream u {
        server 127.0.0.1:1 bogus_param;
    }
--- config
    location = /t {
        return 200;
    }
--- must_die: 1
--- error_log
[emerg]
invalid parameter "bogus_param"
--- selftest_count: 3



=== TEST 17: error_log only sees the current block (and each repetition)
--- config
--- request
GET /no-such-file.html
--- error_code: 404
--- error_log eval
qr/\[error\] .*open\(\) ".*no-such-file\.html" failed \(2: No such file or directory\)/
--- no_error_log
bogus_directive
--- selftest_count: 4



=== TEST 18: TEST_NGINX_* substitution in all config sections and bodies
--- main_config
    env TEST_NGINX_SELFTEST_TAG;
--- http_config
    map $uri $selftest_tag {
        default "$TEST_NGINX_SELFTEST_TAG";
    }
--- config
    location = /env {
        return 200 "port=$TEST_NGINX_SERVER_PORT tag=$selftest_tag html=$TEST_NGINX_HTML_DIR\n";
    }
--- request
GET /env
--- response_body
port=$TEST_NGINX_SERVER_PORT tag=tagged html=$TEST_NGINX_HTML_DIR
--- selftest_count: 2



=== TEST 19: user_files and the default root location
--- config
--- user_files
>>> sub/foo.txt
file content
>>> bar.txt
bar
--- request
GET /sub/foo.txt
--- response_body
file content
--- selftest_count: 2



=== TEST 20: a block without config reuses the previous server
--- request
GET /bar.txt
--- response_body
bar
--- selftest_count: 2



=== TEST 21: log_level section and response_body_filters
--- log_level: warn
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body_filters
uc
--- response_body
HELLO
--- no_error_log eval
# (not plain "[debug]": under TEST_NGINX_USE_HUP the old workers still log)
[qr/\[debug\] .*"GET \/t HTTP/, qr/\[info\] .*GET \/t HTTP/]
--- selftest_count: 4



=== TEST 22: client timeout with --- abort is not a failure
--- no_http2
--- config
    location = /slow {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_read_timeout 10s;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- tcp_reply:
--- request
GET /slow
--- timeout: 300ms
--- abort
--- ignore_response
--- wait: 0.1
--- error_log
client prematurely closed connection
--- selftest_count: 1



=== TEST 23: upstream aborting a chunked response (mock TCP upstream)
--- no_http2
--- config
    location = /trunc {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_http_version 1.1;
        proxy_set_header Host upstream;
        proxy_set_header Connection close;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query_len eval
length "GET /trunc HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n"
--- tcp_query eval
"GET /trunc HTTP/1.1\r\nHost: upstream\r\nConnection: close\r\n\r\n"
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
--- request
GET /trunc
--- ignore_response
--- error_log
upstream prematurely closed connection
--- selftest_count: 2



=== TEST 24: skipped by version
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- skip_nginx: 2: >= 0.1.0
--- selftest_count: 2



=== TEST 25: not skipped by version
--- config
    location = /t {
        return 200 "hello\n";
    }
--- request
GET /t
--- response_body
hello
--- skip_nginx: 2: < 0.1.0
--- selftest_count: 2



=== TEST 26: unconditionally skipped block
--- SKIP
--- config
    location = /t {
        bogus;
    }
--- request
GET /t
--- selftest_count: 100
