# Series labels.  A model name that no exact route lists is labelled by
# the route that took it (a default or regex route would otherwise let any
# client fill the zone with made-up names); a zone that is full warns once
# a minute, not once per eviction; labels made from what a client sent
# (a budget key, a model) are valid UTF-8 in every format, and two
# different names never share a label set.

use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

no_shuffle();

sub chat ($) {
    return "POST /v1/chat/completions\n{\"model\":\"$_[0]\",\"messages\":[]}";
}

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
location = /errlog { default_type text/plain; alias logs/error.log; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value(config => "# " . $block->name . "\n" . $Config)
        unless defined $block->config;
    $block->set_value(no_error_log => "[alert]\n[crit]\n")
        unless defined $block->no_error_log;
});

# a body that holds each of the strings, and no byte above 0x7f (labels
# made from invalid UTF-8 are escaped to ASCII)
sub ascii_with (@) {
    my $re = join '', map { '(?=.*' . quotemeta($_) . ')' } @_;
    return qr/\A(?=[\x00-\x7f]*\z)$re/s;
}

run_tests();

__DATA__

=== TEST 1: made-up names take their route's label; listed names their own
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m1 a;
llm_route ~^gpt- a;
llm_route ~^fixed- a:fixed-model;
llm_route default a;
--- request eval
[ ::chat("m1"), ::chat("made-up-1"), ::chat("made-up-2"), ::chat("gpt-x1"),
  ::chat("gpt-x2"), ::chat("fixed-1"), ::chat("m1"),
  "GET /metrics" ]
--- error_code eval
[ (200) x 8 ]
--- response_body_like eval
[ ("") x 7,
  qr/\A(?!.*(?:made-up|gpt-x|fixed-1))(?=.*^llm_requests_total\{route="m1",provider="a",model="m1",status="200"\} 2$)(?=.*^llm_requests_total\{route="default",provider="a",model="default",status="200"\} 2$)(?=.*^llm_requests_total\{route="~\^gpt-",provider="a",model="~\^gpt-",status="200"\} 2$)(?=.*^llm_requests_total\{route="~\^fixed-",provider="a",model="fixed-model",status="200"\} 1$)/sm ]



=== TEST 2: the labels in /metrics and in /status.json
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m1 a;
llm_route default a;
--- request eval
[ ::chat("made-up-1"), ::chat("made-up-2"), ::chat("m1"), "GET /metrics",
  "GET /status.json" ]
--- error_code eval
[ (200) x 5 ]
--- response_body_like eval
[ ("") x 3,
  qr/^llm_requests_total\{route="default",provider="a",model="default",status="200"\} 2$/m,
  qr/\A(?!.*made-up).*"route":"default","provider":"a","model":"default","status":200,"requests":2/s ]



=== TEST 3: a flood of new series: one eviction warning a minute
--- http_config
llm_zone small 32k;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$http_x_user requests=1000/h name=per-user;
--- request eval
[ (map { ::chat("m") } 1 .. 300), "GET /status.json", "GET /errlog" ]
--- more_headers eval
[ (map { "X-User: user-$_" } 1 .. 300), "", "" ]
--- error_code eval
[ (200) x 302 ]
--- response_body_like eval
[ ("") x 300, qr/"evictions":[1-9]/,
  qr/\A(?s:(?!.*is full.*is full).*llm_zone "small" is full, evicted the least recently used counters "[^"\n]+" \(and 0 more since the last such warning\))/ ]



=== TEST 4: invalid UTF-8 and encoded surrogates in a budget key: valid UTF-8, a label set each
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$http_x_user requests=1000/h name=u;
--- request eval
[ (map { ::chat("m") } 1 .. 5), "GET /status.json", "GET /metrics" ]
--- more_headers eval
[ "X-User: deepseek-\xed\xa0\x80", "X-User: deepseek-\xed\xa0\x81",
  "X-User: bad-\xff", "X-User: bad-\xfe", "X-User: back\\xff", "", "" ]
--- error_code eval
[ (200) x 7 ]
--- response_body_like eval
[ ("") x 5,
  ::ascii_with(map { qq{"name":"u","key":"$_"} }
               'deepseek-\\\\xed\\\\xa0\\\\x80', 'deepseek-\\\\xed\\\\xa0\\\\x81',
               'bad-\\\\xff', 'bad-\\\\xfe', 'back\\\\x5cxff'),
  ::ascii_with(map { qq{llm_budget_used{budget="u",key="$_",metric="requests"} 1} }
               'deepseek-\\\\xed\\\\xa0\\\\x80', 'deepseek-\\\\xed\\\\xa0\\\\x81',
               'bad-\\\\xff', 'bad-\\\\xfe', 'back\\\\x5cxff') ]



=== TEST 5: encoded surrogates in model names: no raw byte in any label
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_budget key=$llm_model requests=1000/h name=by-model;
--- request eval
[ "POST /v1/chat/completions\n{\"model\":\"deepseek-\xed\xa0\x80\",\"messages\":[]}",
  "POST /v1/chat/completions\n{\"model\":\"deepseek-\xed\xa0\x81\",\"messages\":[]}",
  "GET /status.json", "GET /metrics" ]
--- error_code eval
[ 200, 200, 200, 200 ]
--- response_body_like eval
[ "", "",
  ::ascii_with('"route":"default","provider":"a","model":"default","status":200,"requests":2',
               '"key":"deepseek-\\\\xed\\\\xa0\\\\x80"',
               '"key":"deepseek-\\\\xed\\\\xa0\\\\x81"'),
  ::ascii_with('llm_budget_used{budget="by-model",key="deepseek-\\\\xed\\\\xa0\\\\x80",metric="requests"} 1',
               'llm_budget_used{budget="by-model",key="deepseek-\\\\xed\\\\xa0\\\\x81",metric="requests"} 1') ]



=== TEST 6: configured names that need escaping: their labels, made once, are label_utf8's
--- http_config eval
"llm_upstream pr\\\\ov host=127.0.0.1 port=\$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m\\\\1 pr\\\\ov:mod\xffel;
llm_route a-long-route\\\\name pr\\\\ov;
"
--- request eval
[ "POST /v1/chat/completions\n{\"model\":\"m\\\\1\",\"messages\":[]}",
  "POST /v1/chat/completions\n{\"model\":\"a-long-route\\\\name\",\"messages\":[]}",
  "GET /status.json", "GET /metrics" ]
--- error_code eval
[ 200, 200, 200, 200 ]
--- response_body_like eval
[ "", "",
  ::ascii_with('"route":"m\\\\x5c1","provider":"pr\\\\x5cov","model":"mod\\\\xffel","status":200,"requests":1',
               '"route":"a-long-route\\\\x5cname","provider":"pr\\\\x5cov","model":"a-long-route\\\\x5cname","status":200,"requests":1'),
  ::ascii_with('llm_requests_total{route="m\\\\x5c1",provider="pr\\\\x5cov",model="mod\\\\xffel",status="200"} 1',
               'llm_requests_total{route="a-long-route\\\\x5cname",provider="pr\\\\x5cov",model="a-long-route\\\\x5cname",status="200"} 1') ]
