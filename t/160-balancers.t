# Every upstream balancer nginx has, inside a provider's upstream{} block:
# the router wraps it (get, free, notify, TLS sessions, each with the
# balancer's own data), requests go through it, and failover works out of
# and into it.  Blocks that need a balancer this nginx lacks are skipped
# (--- skip_nginx): least_time came with nginx 1.31 (mainline), sticky
# with 1.30.
#
# Each block's --- http_config holds only the balancer's directives; the
# preprocessor puts them into two upstream{} blocks, one with the mock and
# one with a server that refuses connections ("UPSTREAM" in them becomes
# the block's name, for zones that must differ).

use Test::Nginx::Socket 'no_plan';

no_shuffle();

our $Requests = [
    "POST /v1/chat/completions\n" . '{"model":"m","messages":[]}',
    "POST /v1/chat/completions\n" . '{"model":"m","messages":[]}',
    "POST /v1/chat/completions\n" . '{"model":"m","stream":true,"messages":[]}',
    "POST /v1/chat/completions\n" . '{"model":"out","messages":[]}',
    "POST /v1/chat/completions\n" . '{"model":"in","messages":[]}',
    "POST /v1/chat/completions\n" . '{"model":"m","messages":[]}',
];

add_block_preprocessor(sub {
    my $block = shift;
    my $balancer = $block->http_config // '';
    (my $mock = $balancer) =~ s/UPSTREAM/with_mock/g;
    (my $refusal = $balancer) =~ s/UPSTREAM/with_refusal/g;

    $block->set_value(http_config => <<"_EOC_");
upstream with_mock {
$mock
    server 127.0.0.1:\$TEST_NGINX_SERVER_PORT;
}
upstream with_refusal {
$refusal
    # nothing listens on 127.0.0.1:1 (tcpmux): refused at once
    server 127.0.0.1:1;
}
llm_upstream a upstream=with_mock host=127.0.0.1 tls=off path=/mock/a/v1 key=sk-a;
llm_upstream dead upstream=with_refusal host=127.0.0.1 tls=off path=/mock/a/v1 key=sk-dead;
llm_upstream refused host=127.0.0.1 port=1 tls=off path=/mock/a/v1 key=sk-r;
llm_upstream b host=127.0.0.1 port=\$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route m a;
llm_route out dead b;
llm_route in refused a;
_EOC_

    $block->set_value(config => "# " . $block->name . "\n" . <<'_EOC_');
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Attempts $llm_attempts always;
}
location /mock/a/v1/ { llm_mock "content=from a"; }
location /mock/b/v1/ { llm_mock "content=from b"; }
_EOC_

    $block->set_value(request => $Requests);
    $block->set_value(error_code => [ (200) x 6 ]);
    $block->set_value(response_headers => [
        "X-Attempts: a:200", "X-Attempts: a:200", "X-Attempts: a:200",
        "X-Attempts: dead:error b:200", "X-Attempts: refused:error a:200",
        "X-Attempts: a:200",
    ]);
    $block->set_value(response_body_like => [
        qr/"content":"from a"/, qr/"content":"from a"/,
        qr/"content":"a".*data: \[DONE\]\n\n\z/s,
        qr/"content":"from b"/, qr/"content":"from a"/, qr/"content":"from a"/,
    ]);
    $block->set_value(no_error_log => "[alert]\n[crit]\nsignal 11\nno live upstreams\n");
});

run_tests();

__DATA__

=== TEST 1: round robin
--- http_config



=== TEST 2: round robin with a shared zone
--- http_config
    zone UPSTREAM 64k;



=== TEST 3: least_conn
--- http_config
    least_conn;



=== TEST 4: hash, consistent
--- http_config
    hash $request_uri consistent;



=== TEST 5: ip_hash
--- http_config
    ip_hash;



=== TEST 6: random
--- http_config
    random;



=== TEST 7: random two least_conn
--- http_config
    random two least_conn;



=== TEST 8: keepalive over round robin
--- http_config
    keepalive 4;



=== TEST 9: keepalive over least_conn
--- http_config
    least_conn;
    keepalive 4;



=== TEST 10: least_time header
--- skip_nginx: 18: < 1.31.0
--- http_config
    least_time header;



=== TEST 11: least_time header inflight (its notify must get its own data)
--- skip_nginx: 18: < 1.31.0
--- http_config
    least_time header inflight;



=== TEST 12: least_time last_byte inflight with keepalive (which wraps notify)
--- skip_nginx: 18: < 1.31.0
--- http_config
    least_time last_byte inflight;
    keepalive 4;



=== TEST 13: sticky cookie
--- skip_nginx: 18: < 1.30.0
--- http_config
    zone UPSTREAM 64k;
    sticky cookie srv_id expires=1h;



=== TEST 14: sticky learn after the header (notify)
--- skip_nginx: 18: < 1.30.0
--- http_config
    zone UPSTREAM 64k;
    sticky learn create=$upstream_cookie_sid lookup=$cookie_sid zone=UPSTREAM_sessions:1m header;
    keepalive 4;
