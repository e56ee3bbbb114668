# llm_zone ... state=path: counters and budgets survive a restart.
#
# The runner stops nginx (QUIT: graceful, every worker writes the file at
# exit) and starts it again between blocks, so the blocks depend on each
# other and run in order.  Both runners wipe the server root's conf/,
# html/ and logs/ before every block, and the real Test::Nginx::Socket
# refuses to start over a server root that holds anything else ("Can't
# remove t/servroot (not empty?)"), so the file that TEST 1 to 4 carry
# over restarts lives next to the server root, in $TEST_NGINX_STATE_DIR
# ("<servroot>_state", emptied when this file starts); TEST 1 and 4 seed it
# in --- post_setup_server_root (before nginx starts).  The blocks that
# only load a file (TEST 5 on) keep it in html/ (--- user_files), where
# the runners clean it up.
#
#   TEST 1  a seeded file (budget used 4 requests and 1000 tokens in
#           today's window, a reservation of 3 that must not come back, a
#           budget series of a future window that must be dropped, request
#           and tenant counters, totals) is loaded: the budget continues.
#   TEST 2  restart: the budget continues from TEST 1's requests.
#   TEST 3  restart: the file written at exit holds everything, exactly.
#   TEST 4  periodic write (state_interval=1s) while nginx runs; no
#           temporary file is left behind.
#   TEST 5+ corrupt, truncated, foreign (magic, zone, version) and
#           out-of-range files: one [error] line, nginx starts empty.
#
# Request body (76 bytes, max_tokens 10): the mock counts prompt = 76 / 4 =
# 19 and completion = 5 tokens; the budget reserves 76 + 10 = 86 tokens.

use Test::Nginx::Socket 'no_plan';
use File::Path qw(make_path remove_tree);

$ENV{TEST_NGINX_STATE_DIR} = "$ENV{TEST_NGINX_SERVER_ROOT}_state";
remove_tree($ENV{TEST_NGINX_STATE_DIR});
make_path($ENV{TEST_NGINX_STATE_DIR});

# writes the state file of TEST 1 to 4 (from --- post_setup_server_root)
sub write_state ($) {
    my $file = "$ENV{TEST_NGINX_STATE_DIR}/llm.json";
    open my $out, '>', $file or die "cannot write $file: $!";
    print $out shift;
    close $out or die "cannot write $file: $!";
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a seeded state file is loaded: budgets and counters continue
--- http_config
llm_zone main 1m state=$TEST_NGINX_STATE_DIR/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location = /state { alias $TEST_NGINX_STATE_DIR/llm.json; default_type application/json; }
--- post_setup_server_root
my $d = int(time / 86400) * 86400;
my $future = $d + 400 * 86400;
main::write_state(
q({"magic":"ngx_http_llm_router state","version":1,"zone":"main",)
. q("saved":1700000000,)
. q("totals":{"failovers":7,"budget_rejections":3,"usage_missing":2,"evicted":0},)
. q("providers":[{"name":"a","attempts":40,"failures":1,"circuit_opened":1,)
. q("latency":[1,2,3,4,5,6,7,8,9,10],"latency_sum":1000,"latency_count":55,)
. q("ttft":[0,0,0,0,0,0,0,0,0,0],"ttft_sum":0,"ttft_count":0},)
. q({"name":"gone","attempts":9,"failures":0,"circuit_opened":0,)
. q("latency":[0,0,0,0,0,0,0,0,0,0],"latency_sum":0,"latency_count":0,)
. q("ttft":[0,0,0,0,0,0,0,0,0,0],"ttft_sum":0,"ttft_count":0}],)
. q("series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,3,0,10,0,0,0,0]},\n)
. qq({"type":3,"label":["team","red","tokens"],"window":$d,"v":[1000,500,0,100000,0,0,0,0]},\n)
. qq({"type":3,"label":["team","blue","requests"],"window":$future,"v":[9,0,0,10,0,0,0,0]},\n)
. q({"type":1,"label":["m","a","m","200"],"window":0,"v":[5,50,25,0,0,0,0,0]},)
. q({"type":2,"label":["acme","m"],"window":0,"v":[3,30,15,0,0,0,0,0]}]})
. "\n");
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-limit-requests: 10
x-ratelimit-remaining-requests: 5
x-ratelimit-limit-tokens: 100000
x-ratelimit-remaining-tokens: 98914
--- error_log eval
qr/\[notice\] .*llm_zone "main": state file "[^"]*state\/llm\.json" loaded, 4 counters restored, 1 dropped/
--- no_error_log
[error]
[warn]
[alert]
[crit]
[emerg]



=== TEST 2: after a restart the budget continues from TEST 1
--- http_config
llm_zone main 1m state=$TEST_NGINX_STATE_DIR/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location = /state { alias $TEST_NGINX_STATE_DIR/llm.json; default_type application/json; }
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 4
x-ratelimit-remaining-tokens: 98890
--- error_log eval
qr/llm_zone "main": state file "[^"]*" loaded, 4 counters restored, 0 dropped/
--- no_error_log
[error]
[warn]
[alert]
[crit]
[emerg]



=== TEST 3: the file written at exit holds every counter of TEST 1 and 2
--- http_config
llm_zone main 1m state=$TEST_NGINX_STATE_DIR/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location = /state { alias $TEST_NGINX_STATE_DIR/llm.json; default_type application/json; }
location /statedir/ { alias $TEST_NGINX_STATE_DIR/; autoindex on; }
--- request eval
["GET /state", "GET /statedir/"]
--- error_code eval
[200, 200]
--- response_body_like eval
[
qr/^\{"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":\d+,\n"totals":\{"failovers":7,"budget_rejections":3,"usage_missing":2,"evicted":0\},\n"providers":\[\n\{"name":"a","attempts":42,"failures":1,"circuit_opened":1,"latency":\[(?:\d+,){9}10\],"latency_sum":\d+,"latency_count":57,/
. qr/.*\],\n"series":\[\n/s
. qr/(?=.*\{"type":3,"label":\["team","red","requests"\],"window":\d+,"v":\[6,0,0,10,\d+,0,0,0\]\})/s
. qr/(?=.*\{"type":3,"label":\["team","red","tokens"\],"window":\d+,"v":\[1048,0,0,100000,\d+,0,0,0\]\})/s
. qr/(?=.*\{"type":1,"label":\["m","a","m","200"\],"window":0,"v":\[7,88,35,0,0,0,0,0\]\})/s
. qr/(?=.*\{"type":2,"label":\["acme","m"\],"window":0,"v":\[3,30,15,0,0,0,0,0\]\})/s
. qr/(?!.*blue)(?!.*gone).*\]\}\n\z/s,
qr/^(?!.*\.tmp\.).*<a href="llm\.json">llm\.json<\/a>/s
]
--- no_error_log
[error]
[warn]
[alert]
[crit]



=== TEST 4: the file is written periodically while nginx runs
--- http_config
llm_zone main 1m state=$TEST_NGINX_STATE_DIR/llm.json state_interval=1s;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location /sleep/ { llm_mock delay=2500ms; }
location = /state { alias $TEST_NGINX_STATE_DIR/llm.json; default_type application/json; }
location /statedir/ { alias $TEST_NGINX_STATE_DIR/; autoindex on; }
--- post_setup_server_root
main::write_state(<<'_EOS_');
{"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":0,"totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},"providers":[],"series":[]}
_EOS_
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"m\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
"POST /sleep/v1/chat/completions
{}",
"GET /state",
"GET /statedir/"
]
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["x-ratelimit-remaining-requests: 9", "", "", ""]
--- response_body_like eval
[
qr/"model":"m"/,
qr/"model":"mock-model"/,
qr/^\{"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":[1-9]\d+,(?=.*\{"type":3,"label":\["team","red","requests"\],"window":\d+,"v":\[1,0,0,10,\d+,0,0,0\]\})(?=.*\{"type":1,"label":\["m","a","m","200"\],"window":0,"v":\[1,19,5,0,0,0,0,0\]\})/s,
qr/^(?!.*\.tmp\.).*<a href="llm\.json">llm\.json<\/a>/s
]
--- no_error_log
[error]
[warn]
[alert]
[crit]



=== TEST 5: a corrupt state file: one error line, nginx starts empty
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files
>>> llm.json
garbage \x00 not json
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: it is not valid JSON \(at byte 0 of 22\)$/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 6: a truncated state file: one error line, nginx starts empty
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files eval
my $d = int(time / 86400) * 86400;
">>> llm.json\n"
. q({"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":0,)
. q("totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},)
. q("providers":[],"series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,0,0,10,0,0,0,0]},\n)
. qq({"type":3,"label":["team","red","tok)
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: it is truncated/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 7: a JSON file of something else (no magic) is refused
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files
>>> llm.json
{"magic":"something else","version":1,"zone":"main","saved":0,"totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},"providers":[],"series":[]}
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: it is not a state file of the llm router/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 8: the state file of another zone is refused
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files eval
my $d = int(time / 86400) * 86400;
">>> llm.json\n"
. q({"magic":"ngx_http_llm_router state","version":1,"zone":"other","saved":0,)
. q("totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},)
. q("providers":[],"series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,0,0,10,0,0,0,0]}]}\n)
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: it belongs to llm_zone "other"$/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 9: a state file of another format version is refused
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files eval
my $d = int(time / 86400) * 86400;
">>> llm.json\n"
. q({"magic":"ngx_http_llm_router state","version":2,"zone":"main","saved":0,)
. q("totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},)
. q("providers":[],"series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,0,0,10,0,0,0,0]}]}\n)
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: format version 2 is not supported \(1 is\)$/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 10: one value out of range: the whole file is refused
A valid budget series comes first: it must not be restored either.
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files eval
my $d = int(time / 86400) * 86400;
">>> llm.json\n"
. q({"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":0,)
. q("totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},)
. q("providers":[],"series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,0,0,10,0,0,0,0]},\n)
. qq({"type":3,"label":["team","red","tokens"],"window":$d,"v":[1000,0,-1,100000,0,0,0,0]}]}\n)
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
x-ratelimit-remaining-tokens: 99914
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: series #1 has an invalid "v"$/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 11: a label that the zone cannot hold (an unknown budget metric)
--- http_config
llm_zone main 1m state=html/llm.json;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
llm_budget key=$http_x_team requests=10/d tokens=100000/d name=team;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files eval
my $d = int(time / 86400) * 86400;
">>> llm.json\n"
. q({"magic":"ngx_http_llm_router state","version":1,"zone":"main","saved":0,)
. q("totals":{"failovers":0,"budget_rejections":0,"usage_missing":0,"evicted":0},)
. q("providers":[],"series":[)
. qq({"type":3,"label":["team","red","requests"],"window":$d,"v":[4,0,0,10,0,0,0,0]},\n)
. qq({"type":3,"label":["team","red","joules"],"window":$d,"v":[1,0,0,10,0,0,0,0]}]}\n)
--- request
POST /v1/chat/completions
{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hello"}]}
--- more_headers
Content-Type: application/json
X-Team: red
--- error_code: 200
--- response_headers
x-ratelimit-remaining-requests: 9
--- error_log eval
qr/\[error\] .*llm_zone "main": state file "[^"]*html\/llm\.json" is ignored: series #1 has an invalid "label"$/
--- grep_error_log eval
qr/\[(?:warn|error|crit|alert|emerg)\]/
--- grep_error_log_out
[error]
--- no_error_log
[alert]
[crit]



=== TEST 12: no state file yet, in a directory that does not exist
Starting is silent (info level at most); a failing periodic write is one
[error] line (per process and minute at most), never a crash.
--- http_config
llm_zone main 1m state=nodir/llm.json state_interval=1s;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route m a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location /sleep/ { llm_mock delay=2500ms; }
--- request
POST /sleep/v1/chat/completions
{}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: "model":"mock-model"
--- error_log eval
[
qr/\[info\] .*llm_zone "main": no state file "[^"]*nodir\/llm\.json" yet/,
qr/\[error\] .*llm_zone "main": open\(\) "[^"]*nodir\/llm\.json\.tmp\.\d+" failed, the state file is not written \(2: No such file or directory\)/
]
--- no_error_log
[warn]
[alert]
[crit]
