# Active health checks on the status pages: per provider, server and key
# the state, since when, the last probe and its outcome (Prometheus, JSON,
# HTML); probes are not requests, usage or budget.

use Test::Nginx::Socket 'no_plan';

workers(2);
master_on();
no_shuffle();

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

=== TEST 1: a provider up, one of its servers down, one of its keys refused
--- http_config
upstream fleet {
    server 127.0.0.1:$TEST_NGINX_SERVER_PORT;
    server unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
}
server {
    listen unix:$TEST_NGINX_SERVER_ROOT/logs/s2.sock;
    location = /mock/a/v1/models { return 503; }
}
llm_upstream a upstream=fleet host=fleet.test tls=off path=/mock/a/v1 key_file=../html/keys.txt check check_interval=100ms fall=1;
llm_route m a;
--- config
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
location = /status { llm_status html; }
location = /mock/a/v1/models {
    if ($http_authorization = "Bearer sk-revoked") {
        return 401;
    }
    return 200 '{"object":"list","data":[]}';
}
--- user_files
>>> keys.txt
sk-revoked
sk-good
--- init
main::wait_for_log(qr/server unix:\S+ of provider "a" is down/, 30);
main::wait_for_log(qr/key #1 of provider "a" is refused by probes/, 30);
--- request eval
["GET /metrics", "GET /status.json", "GET /status"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
qr/^llm_provider_up\{provider="a"\} 1$(?s:.*)^llm_provider_probes_total\{provider="a"\} [1-9]\d*$(?s:.*)^llm_upstream_server_up\{provider="a",server="127\.0\.0\.1:\d+"\} 1\n^llm_upstream_server_up\{provider="a",server="unix:\S+s2\.sock"\} 0$(?s:.*)^llm_provider_key_usable\{provider="a",key="#1"\} 0\n^llm_provider_key_usable\{provider="a",key="#2"\} 1$/m,
qr/"totals":\{"requests":0,(?s:.*)"health":\[\{"provider":"a","state":"up","up":true,"since":null,"checked":\d+,"last":"status \d+","latency_ms":\d+,"probes":\d+,"probe_failures":\d+\}\],"health_servers":\[\{"provider":"a","server":"127\.0\.0\.1:\d+","state":"up",(?s:.*)\{"provider":"a","server":"unix:\S+s2\.sock","state":"down","up":false,"since":\d+,(?s:.*)"health_keys":\[\{"provider":"a","key":"#1","state":"refused","usable":false,"since":\d+,(?s:.*)\{"provider":"a","key":"#2","state":"usable","usable":true,/,
qr/Health checks(?s:.*)Servers \(health checks\)(?s:.*)s2\.sock(?s:.*)Keys \(health checks\)(?s:.*)refused/,
]
--- no_error_log eval
[qr/\[(?:warn|error|notice)\].*sk-revoked/, "[alert]", "[crit]"]
