# Configuration errors: every mistake is refused when nginx loads the
# configuration (as `nginx -t` would), with a message naming the culprit
# and, where nginx adds it, the file and line of the faulty directive.
#
# Line numbers: the generated nginx.conf puts the first line of
# --- http_config on line 25 and the first line of --- config on line
# 39 + (number of http_config lines).

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# Blocks share their setup: a block without its own --- http_config
# (or --- config) gets the one below.

our $HttpConfig = <<'_EOC_';
llm_upstream a host=127.0.0.1 tls=off key=k;
_EOC_

our $Config = <<'_EOC_';
location /v1/ { include ../../../conf/llm_params; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $Config);
    }

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

run_tests();

__DATA__

=== TEST 1: route (http level) to an unknown provider
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m nope:x;
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown llm_upstream "nope" in route "m" in \S+/nginx\.conf:26$}



=== TEST 2: route (location level) to an unknown provider, backup target
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
--- config
location /v1/ {
    llm_route ~^gpt a b;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown llm_upstream "b" in route "~\^gpt" in \S+/nginx\.conf:41$}



=== TEST 3: provider defined twice
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream a host=127.0.0.2 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate llm_upstream "a" in \S+/nginx\.conf:26$}



=== TEST 4: unknown parameter
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k foo=1;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "foo=1" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 5: port=0
--- http_config
llm_upstream a host=127.0.0.1 port=0 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "port=0" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 6: port=x
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k port=x;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "port=x" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 7: port=65536
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k port=65536;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "port=65536" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 8: tls=maybe
--- http_config
llm_upstream a host=127.0.0.1 tls=maybe key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "tls=maybe" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 9: api=foo
--- http_config
llm_upstream a host=127.0.0.1 tls=off api=foo key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "api=foo" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 10: path= not starting with a slash
--- http_config
llm_upstream a host=127.0.0.1 tls=off path=noslash key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "path=noslash" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 11: max_fails=x
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k max_fails=x;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "max_fails=x" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 12: fail_timeout=abc
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k fail_timeout=abc;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "fail_timeout=abc" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 13: fail_on=abc
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k fail_on=abc;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "fail_on" value "abc" in llm_upstream "a": expected error, timeout, default or a status 400-599 in \S+/nginx\.conf:25$}



=== TEST 14: fail_on=700 (outside 400-599), after a valid item
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k fail_on=error,700;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "fail_on" value "700" in llm_upstream "a": expected error, timeout, default or a status 400-599 in \S+/nginx\.conf:25$}



=== TEST 15: fail_on=399 (a status below 400)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k fail_on=399;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "fail_on" value "399" in llm_upstream "a": expected error, timeout, default or a status 400-599 in \S+/nginx\.conf:25$}



=== TEST 16: empty key=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "key=" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 17: unknown preset
--- http_config
llm_upstream a preset=nope key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown preset "nope" in \S+/nginx\.conf:25$}



=== TEST 18: two key sources (key= and key_env=)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k key_env=PATH;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "a" takes only one of "key=", "key_file=" and "key_env=" in \S+/nginx\.conf:25$}



=== TEST 19: two key sources (key_file= and key=)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key_file=../html/keys.txt key=k;
llm_route m a;
--- user_files
>>> keys.txt
sk-1
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "a" takes only one of "key=", "key_file=" and "key_env=" in \S+/nginx\.conf:25$}



=== TEST 20: neither host=, upstream= nor preset=
--- http_config
llm_upstream a port=8080 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "a" needs "host=", "upstream=" or "preset=" in \S+/nginx\.conf:25$}



=== TEST 21: key file that cannot be opened
--- http_config
llm_upstream a host=127.0.0.1 tls=off key_file=no-such-keys.txt;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*open\(\) key file "\S+/conf/no-such-keys\.txt" of llm_upstream "a" failed \(2: No such file or directory\) in \S+/nginx\.conf:25$}



=== TEST 22: key file with only comments and blank lines
--- http_config
llm_upstream a host=127.0.0.1 tls=off key_file=../html/keys.txt;
llm_route m a;
--- user_files
>>> keys.txt
# production keys go here

   
	# indented comment
--- must_die
--- error_log eval
qr{\[emerg\] .*key file "\S+/conf/\.\./html/keys\.txt" of llm_upstream "a" has no keys in \S+/nginx\.conf:25$}



=== TEST 23: key_env= names a variable that is not set
--- http_config
llm_upstream a host=127.0.0.1 tls=off key_env=LLM_ROUTER_TEST_NOT_SET_42;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*environment variable "LLM_ROUTER_TEST_NOT_SET_42" of llm_upstream "a" is not set in \S+/nginx\.conf:25$}



=== TEST 24: route with no target (short form)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m;
--- must_die
--- error_log eval
qr{\[emerg\] .*no target in route "m" in \S+/nginx\.conf:26$}



=== TEST 25: route with no target (block form)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m {
}
--- must_die
--- error_log eval
qr{\[emerg\] .*no target in route "m" in \S+/nginx\.conf:27$}



=== TEST 26: route regex that does not compile
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route ~^gpt-(4 a;
--- must_die
--- error_log eval
qr{\[emerg\] .*pcre2?_compile\(\) failed: missing closing parenthesis in "\^gpt-\(4"(?: at "")? in \S+/nginx\.conf:26$}



=== TEST 27: llm_zone without a size
--- http_config
llm_zone z;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_zone "z" has no size in \S+/nginx\.conf:25$}



=== TEST 28: llm_zone too small
--- http_config
llm_zone z 16k;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_zone "z" is too small, \d+ at least in \S+/nginx\.conf:25$}



=== TEST 29: llm_zone given twice
--- http_config
llm_zone z 1m;
llm_zone y 1m;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_zone" directive is duplicate in \S+/nginx\.conf:26$}



=== TEST 30: llm_zone state_interval= below a second
--- http_config
llm_zone z 1m state=llm-state.json state_interval=500ms;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "state_interval=500ms" in llm_zone "z", 1s at least in \S+/nginx\.conf:25$}



=== TEST 31: duplicate exact route
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.2 tls=off key=k;
llm_route m a;
llm_route m b;
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate route "m" in \S+/nginx\.conf:28$}



=== TEST 32: duplicate route, short form then block form
--- config
location /v1/ {
    llm_route m a;
    llm_route_weighted m {
        a;
    }
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate route "m" in \S+/nginx\.conf:42$}



=== TEST 33: duplicate default route
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route default a;
llm_route default a:other;
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate default route in \S+/nginx\.conf:27$}



=== TEST 34: weight=0
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.2 tls=off key=k;
llm_route_weighted m {
    a weight=2;
    b weight=0;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid weight "weight=0" in route "m" in \S+/nginx\.conf:29$}



=== TEST 35: weight=x
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m {
    a weight=x;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid weight "weight=x" in route "m" in \S+/nginx\.conf:27$}



=== TEST 36: primary target after a backup
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.2 tls=off key=k;
llm_upstream c host=127.0.0.3 tls=off key=k;
llm_route_weighted m {
    a;
    b backup;
    c:big weight=2;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*primary target "c:big" after a backup in route "m" in \S+/nginx\.conf:31$}



=== TEST 37: only backup targets
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.2 tls=off key=k;
llm_route_weighted m {
    a backup;
    b backup;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*route "m" has only backup targets in \S+/nginx\.conf:30$}



=== TEST 38: invalid target ":model" (no provider)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m :model;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid target ":model" in route "m" in \S+/nginx\.conf:26$}



=== TEST 39: invalid target "p:" (empty model)
--- http_config
llm_upstream p host=127.0.0.1 tls=off key=k;
llm_route m p p:;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid target "p:" in route "m" in \S+/nginx\.conf:26$}



=== TEST 40: invalid target in the block form
--- http_config
llm_upstream p host=127.0.0.1 tls=off key=k;
llm_route_weighted m {
    p:x weight=2;
    :y;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid target ":y" in route "m" in \S+/nginx\.conf:28$}



=== TEST 41: llm_router on in a location without any route
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_router" is on but no "llm_route" is defined for this location}



=== TEST 42: llm_router on where the routes live in another location
--- config
location /other/ {
    llm_route m a;
    return 204;
}
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_router" is on but no "llm_route" is defined for this location}



=== TEST 43: llm_route_key given twice
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- config
location /v1/ {
    llm_route_key $http_x_task;
    llm_route_key $llm_model;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_route_key" directive is duplicate in \S+/nginx\.conf:43$}



=== TEST 44: empty fail_on=
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k fail_on=;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*empty "fail_on" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 45: a backup target with a weight
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_upstream b host=127.0.0.2 tls=off key=k;
llm_route_weighted m {
    a;
    b weight=2 backup;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*a backup target takes no weight in route "m" in \S+/nginx\.conf:29$}



=== TEST 46: unknown parameter of a weighted target
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route_weighted m {
    a down;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "down" in route "m" in \S+/nginx\.conf:27$}



=== TEST 47: provider name with a colon
--- http_config
llm_upstream a:b host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid llm_upstream name "a:b" in \S+/nginx\.conf:25$}



=== TEST 48: upstream= may not name the router's own upstream
--- http_config
llm_upstream a upstream=llm_router key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_upstream "a" may not use the "llm_router" upstream in \S+/nginx\.conf:25$}



=== TEST 49: a key with a space inside, in a key file (the key is not logged)
--- http_config
llm_upstream a host=127.0.0.1 tls=off key_file=../html/keys.txt;
llm_route m a;
--- user_files
>>> keys.txt
sk-first
sk-second secret-part
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid character in a key of llm_upstream "a" in \S+/nginx\.conf:25$}
--- no_error_log
secret-part
sk-first



=== TEST 50: empty regex
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route ~* a;
--- must_die
--- error_log eval
qr{\[emerg\] .*empty regex in route "~\*" in \S+/nginx\.conf:26$}



=== TEST 51: llm_zone with an invalid size
--- http_config
llm_zone z 10q;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid size "10q" of llm_zone "z" in \S+/nginx\.conf:25$}



=== TEST 52: llm_zone with an unknown parameter
--- http_config
llm_zone z 1m foo;
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "foo" in llm_zone "z" in \S+/nginx\.conf:25$}



=== TEST 53: llm_upstream is only allowed at http level
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- config
llm_upstream b host=127.0.0.1 tls=off key=k;
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_upstream" directive is not allowed here in \S+/nginx\.conf:41$}



=== TEST 54: llm_router takes on or off
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k;
llm_route m a;
--- config
location /v1/ { llm_router maybe; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "maybe" in "llm_router" directive, it must be "on" or "off" in \S+/nginx\.conf:41$}



=== TEST 55: host= with a path in it
--- http_config
llm_upstream a host=127.0.0.1/v1 tls=off key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "host=127\.0\.0\.1/v1" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 56: path= with a query string
--- http_config
llm_upstream a host=127.0.0.1 tls=off key=k path=/v1?x=1;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid value "path=/v1\?x=1" in llm_upstream "a" in \S+/nginx\.conf:25$}



=== TEST 57: upstream= naming a block that does not exist
--- http_config
llm_upstream a upstream=no_such_block key=k;
llm_route m a;
--- must_die
--- error_log eval
qr{\[emerg\] .*host not found in upstream "no_such_block" in \S+/nginx\.conf:25$}
