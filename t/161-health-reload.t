# Health state lives in the zone and survives "nginx -s reload": a
# provider that probes found down stays down in the new workers until
# probes bring it back (rise= passes), with no request ever sent to it.
#
# TEST_NGINX_USE_HUP=1 (a documented Test::Nginx variable) keeps one nginx
# master for the whole file; every later block rewrites nginx.conf and
# sends HUP, exactly what "nginx -s reload" does.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

# Under valgrind nginx runs as a single process, which does not reload as
# a master does: this file needs the master, so it is skipped.
BEGIN {
    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        print "1..0 # SKIP a reload needs the master process\n";
        exit 0;
    }
}

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    if (defined $block->config) {
        $block->set_value(config => "# " . $block->name . "\n" . $block->config);
    }
});

sub wait_for_log {
    my ($re, $secs) = @_;
    my $file = server_root() . '/logs/error.log';
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

run_tests();

__DATA__

=== TEST 1: probes mark a down
--- http_config
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=100ms fall=1;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 503; }
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
--- no_error_log
[alert]
[crit]



=== TEST 2: after a reload a is still down, though its probes now pass (rise=3, 1h apart)
--- http_config
llm_zone gw 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a check check_interval=1h rise=3;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a b;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location = /mock/a/v1/models { return 200 '{"object":"list","data":[]}'; }
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: b:200
--- no_error_log
provider "a" is up again
[alert]
[crit]
