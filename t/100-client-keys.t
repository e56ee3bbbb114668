# llm_client_keys: the gateway's own API keys.  A client presents its key
# as "Authorization: Bearer", "x-api-key" or "api-key"; an unknown or
# missing key is a 401 in the API's format, a model that the key's tenant
# may not use a 403.  Keys never reach a provider or a log line, and every
# mistake in the key file stops nginx with the file's line number.
#
# Key files are made with --- user_files (they land in html/) and named
# relative to the conf directory, as ../html/keys.txt.
#
# Line numbers: the generated nginx.conf puts the first line of
# --- http_config on line 25.

use Test::Nginx::Socket 'no_plan';

# nginx itself logs every request header, Authorization included, at debug
# level: "the key is in no log line" can only be checked above debug.  The
# module's own code logs no key at any level.
log_level('info');

no_shuffle();

# The key file is read at configuration time: every block needs its own
# nginx, and Test::Nginx restarts nginx only when the config changes.
add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value(http_config => <<'_EOC_');
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-ant-provider;
llm_route gpt-4o a;
llm_route gpt-4o-mini a;
llm_route o1 a;
llm_route claude-3 c;
llm_client_keys ../html/keys.txt;
_EOC_
    }

    if (!defined $block->config) {
        $block->set_value(config => <<'_EOC_');
location /v1/ {
    include ../../../conf/llm_params;
    add_header X-Tenant $llm_tenant always;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1 completion_tokens=2; }
location /mock/c/v1/ { llm_mock prompt_tokens=1 completion_tokens=2; }
_EOC_
    }

    if (!defined $block->user_files) {
        # sk-hashed-0000 is only in the file as its SHA-256 digest
        $block->set_value(user_files => <<'_EOC_');
>>> keys.txt
# client keys: key tenant [models=...]

sk-alpha-1234 alpha
  sk-beta-5678	beta   models=gpt-4o,claude-3
sha256:4DFA8566eec6233a2c8591bd39dc7d71037f28466026fb4127d189ea75db27d9 gamma models=o1
sk-crlf-9999 delta
_EOC_
    }

    $block->set_value(config => "# " . $block->name . "\n" . $block->config);
});

run_tests();

__DATA__

=== TEST 1: plaintext key in Authorization: Bearer
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: alpha
X-Mock-Uri: /mock/a/v1/chat/completions
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock provider"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
--- no_error_log
sk-alpha-1234
[error]
[alert]
[crit]



=== TEST 2: plaintext key in x-api-key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-beta-5678
--- error_code: 200
--- response_headers
X-Tenant: beta
X-Mock-Uri: /mock/a/v1/chat/completions
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: plaintext key in api-key (Azure style)
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
api-key: sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: alpha
--- no_error_log
[error]
[alert]
[crit]



=== TEST 4: sha256: entry (digest in upper and lower case hex)
--- request
POST /v1/chat/completions
{"model":"o1","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-hashed-0000
--- error_code: 200
--- response_headers
X-Tenant: gamma
X-Mock-Uri: /mock/a/v1/chat/completions
--- no_error_log
[error]
[alert]
[crit]



=== TEST 5: the digest itself is not a key
--- request
POST /v1/chat/completions
{"model":"o1","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sha256:4dfa8566eec6233a2c8591bd39dc7d71037f28466026fb4127d189ea75db27d9
--- error_code: 401
--- response_headers
X-Tenant:
--- response_body
{"error":{"message":"Invalid API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}



=== TEST 6: unknown key: 401 in OpenAI format, logged at info without the key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-wrong-key-4242
--- error_code: 401
--- response_headers
Content-Type: application/json
X-Tenant:
--- response_body
{"error":{"message":"Invalid API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}
--- error_log eval
qr{\[info\] .*client key not found in "\S+/html/keys\.txt"}
--- no_error_log
sk-wrong-key-4242
[error]
[alert]
[crit]



=== TEST 7: unknown key on messages: 401 in Anthropic format
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-wrong-key-4242
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body
{"type":"error","error":{"type":"authentication_error","message":"Invalid API key"}}
--- no_error_log
sk-wrong-key-4242
[error]
[alert]
[crit]



=== TEST 8: missing key: 401
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_headers
Content-Type: application/json
--- response_body
{"error":{"message":"Missing API key: send it as \"Authorization: Bearer KEY\" or \"x-api-key: KEY\"","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: missing key on messages: 401 in Anthropic format
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 401
--- response_body
{"type":"error","error":{"type":"authentication_error","message":"Missing API key: send it as \"Authorization: Bearer KEY\" or \"x-api-key: KEY\""}}



=== TEST 10: empty Bearer token is a missing key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer
--- error_code: 401
--- response_body_like: "message":"Missing API key



=== TEST 11: the key is checked before the body is read
--- request
POST /v1/chat/completions
{"model":
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-wrong-key-4242
--- error_code: 401
--- response_body
{"error":{"message":"Invalid API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}



=== TEST 12: Authorization comes first: a valid Bearer key wins over a bad x-api-key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-alpha-1234
x-api-key: sk-wrong-key-4242
api-key: sk-wrong-key-4242
--- error_code: 200
--- response_headers
X-Tenant: alpha



=== TEST 13: Authorization comes first: a bad Bearer key is not saved by x-api-key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-wrong-key-4242
x-api-key: sk-alpha-1234
--- error_code: 401
--- response_body_like: "code":"invalid_api_key"



=== TEST 14: x-api-key comes before api-key
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-beta-5678
api-key: sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: beta



=== TEST 15: Authorization with another scheme is not a key: x-api-key is used
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Basic dXNlcjpwYXNz
x-api-key: sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: alpha



=== TEST 16: Authorization with another scheme alone: 401
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Basic dXNlcjpwYXNz
--- error_code: 401
--- response_body_like: "message":"Missing API key



=== TEST 17: the scheme is case-insensitive, a line ending in CRLF is read
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: bearer sk-crlf-9999
--- user_files eval
">>> keys.txt\nsk-alpha-1234 alpha\r\nsk-crlf-9999 delta\r\n"
--- error_code: 200
--- response_headers
X-Tenant: delta



=== TEST 18: a key is the whole token: a prefix or a longer key is unknown
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\"}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\"}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer sk-alpha-123",
 "Content-Type: application/json\nAuthorization: Bearer sk-alpha-12345"]
--- error_code eval
[401, 401]



=== TEST 19: models= allows the listed models
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-beta-5678
--- error_code: 200
--- response_headers
X-Tenant: beta
X-Mock-Uri: /mock/c/v1/messages
--- no_error_log
[error]
[alert]
[crit]



=== TEST 20: models= forbids the others: 403 in OpenAI format
--- request
POST /v1/chat/completions
{"model":"gpt-4o-mini","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-beta-5678
--- error_code: 403
--- response_headers
Content-Type: application/json
X-Tenant: beta
--- response_body
{"error":{"message":"This API key may not use the model `gpt-4o-mini`","type":"permission_error","param":"model","code":"model_not_allowed"}}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 21: models= forbids the others: 403 in Anthropic format
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-hashed-0000
--- error_code: 403
--- response_body
{"type":"error","error":{"type":"permission_error","message":"This API key may not use the model `claude-3`"}}



=== TEST 22: models= names exact models: no prefix, no case folding
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o-mini\"}",
 "POST /v1/chat/completions\n{\"model\":\"GPT-4O\"}"]
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-beta-5678
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_route gpt-4o a;
llm_route gpt-4o-mini a;
llm_route GPT-4O a;
llm_client_keys ../html/keys.txt;
--- error_code eval
[403, 403]



=== TEST 23: no models= means every model
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: alpha



=== TEST 24: the client's key never reaches the provider (api=openai)
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock echo=headers; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-alpha-1234
x-api-key: sk-beta-5678
api-key: sk-hashed-0000
--- error_code: 200
--- response_body eval
"POST /mock/a/v1/chat/completions
Host: 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}
Authorization: Bearer sk-provider-a
Content-Length: 32
Content-Type: application/json
"
--- no_error_log
sk-alpha-1234
sk-beta-5678
sk-hashed-0000
[error]



=== TEST 25: the client's key never reaches the provider (api=anthropic)
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/c/v1/ { llm_mock echo=headers; }
--- request
POST /v1/messages
{"model":"claude-3","max_tokens":8,"messages":[]}
--- more_headers
Content-Type: application/json
x-api-key: sk-beta-5678
--- error_code: 200
--- response_body eval
"POST /mock/c/v1/messages
Host: 127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}
x-api-key: sk-ant-provider
anthropic-version: 2023-06-01
Content-Length: 49
Content-Type: application/json
"
--- no_error_log
sk-beta-5678
[error]



=== TEST 26: GET models needs a key too
--- request
GET /v1/models
--- error_code: 401
--- response_body_like: "code":"invalid_api_key"



=== TEST 27: GET models with a key
--- request
GET /v1/models/gpt-4o
--- more_headers
Authorization: Bearer sk-alpha-1234
--- error_code: 200
--- response_headers
X-Tenant: alpha
--- response_body_like: ^\{"id":"gpt-4o",



=== TEST 28: keys set at http level, "off" in one location
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /open/v1/ {
    llm_client_keys off;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- request eval
["POST /open/v1/chat/completions\n{\"model\":\"gpt-4o\"}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-4o\"}"]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 401]



=== TEST 29: keys set in one location only, another file per location
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a;
llm_route gpt-4o a;
--- config
location /v1/ {
    llm_client_keys ../html/keys.txt;
    include ../../../conf/llm_params;
    add_header X-Tenant $llm_tenant always;
}
location /other/v1/ {
    llm_client_keys ../html/other.txt;
    include ../../../conf/llm_params;
    add_header X-Tenant $llm_tenant always;
}
location /free/v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
>>> other.txt
sk-other-1111 other
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gpt-4o\"}",
 "POST /other/v1/chat/completions\n{\"model\":\"gpt-4o\"}",
 "POST /other/v1/chat/completions\n{\"model\":\"gpt-4o\"}",
 "POST /free/v1/chat/completions\n{\"model\":\"gpt-4o\"}"]
--- more_headers eval
["Content-Type: application/json\nAuthorization: Bearer sk-alpha-1234",
 "Content-Type: application/json\nAuthorization: Bearer sk-alpha-1234",
 "Content-Type: application/json\nAuthorization: Bearer sk-other-1111",
 "Content-Type: application/json"]
--- error_code eval
[200, 401, 200, 200]



=== TEST 30: unreadable key file
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/nope.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
--- must_die
--- error_log eval
qr{\[emerg\] .*open\(\) client keys file "\S+/html/nope\.txt" failed \(2: No such file or directory\) in \S+/nginx\.conf:27$}



=== TEST 31: key file without keys
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
# no key yet

   
	# indented comment
--- must_die
--- error_log eval
qr{\[emerg\] .*client keys file "\S+/html/keys\.txt" has no keys in \S+/nginx\.conf:27$}



=== TEST 32: malformed line: a key without a tenant (the key is not logged)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
# comment
sk-alpha-1234 alpha
sk-lonely-key
--- must_die
--- error_log eval
qr{\[emerg\] .*no tenant in line 3 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}
--- no_error_log
sk-lonely-key



=== TEST 33: malformed line: too many fields
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha models=m extra
--- must_die
--- error_log eval
qr{\[emerg\] .*too many fields in line 1 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}
--- no_error_log
sk-alpha-1234



=== TEST 34: malformed line: unknown parameter (a key written where the tenant goes)
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
sk-beta-5678 sk-gamma-0000 beta
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter in line 2 of client keys file "\S+/html/keys\.txt", only "models=" is known in \S+/nginx\.conf:27$}
--- no_error_log
sk-beta-5678
sk-gamma-0000



=== TEST 35: malformed line: control character
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files eval
">>> keys.txt\nsk-alpha-1234 alpha\nsk-be\x01ta beta\n"
--- must_die
--- error_log eval
qr{\[emerg\] .*control character in line 2 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}



=== TEST 36: duplicate key
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
sk-beta-5678 beta
sk-alpha-1234 other
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate key in lines 1 and 3 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}
--- no_error_log
sk-alpha-1234



=== TEST 37: duplicate key: a plaintext key and its own digest
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sha256:815ff66dd71cccd33c8e7ff0021a4041b12ae9a90f8f1725f6ba6e862bf0d1f7 alpha
sk-beta-5678 beta
sk-alpha-1234 alpha
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate key in lines 1 and 3 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}



=== TEST 38: bad sha256: 63 hex digits
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
sha256:815ff66dd71cccd33c8e7ff0021a4041b12ae9a90f8f1725f6ba6e862bf0d1f beta
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid sha256 digest in line 2 of client keys file "\S+/html/keys\.txt", 64 hex digits expected in \S+/nginx\.conf:27$}



=== TEST 39: bad sha256: not hex
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sha256:g15ff66dd71cccd33c8e7ff0021a4041b12ae9a90f8f1725f6ba6e862bf0d1f7 beta
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid sha256 digest in line 1 of client keys file "\S+/html/keys\.txt", 64 hex digits expected in \S+/nginx\.conf:27$}



=== TEST 40: bad sha256: empty
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sha256: beta
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid sha256 digest in line 1 of client keys file "\S+/html/keys\.txt", 64 hex digits expected in \S+/nginx\.conf:27$}



=== TEST 41: empty models= list
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha models=m
sk-beta-5678 beta models=
--- must_die
--- error_log eval
qr{\[emerg\] .*empty "models=" in line 2 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}



=== TEST 42: empty model name in models=
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- user_files
>>> keys.txt
sk-alpha-1234 alpha models=m,
--- must_die
--- error_log eval
qr{\[emerg\] .*empty model name in "models=" in line 1 of client keys file "\S+/html/keys\.txt" in \S+/nginx\.conf:27$}



=== TEST 43: llm_client_keys twice in one location
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
--- config
location /v1/ {
    llm_client_keys ../html/keys.txt;
    llm_client_keys off;
    include ../../../conf/llm_params;
}
--- user_files
>>> keys.txt
sk-alpha-1234 alpha
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_client_keys" directive is duplicate in \S+/nginx\.conf:\d+$}



=== TEST 44: GET models lists every model for a tenant without models=
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-alpha-1234
--- error_code: 200
--- response_body chomp
{"object":"list","data":[{"id":"gpt-4o","object":"model","created":0,"owned_by":"a"},{"id":"gpt-4o-mini","object":"model","created":0,"owned_by":"a"},{"id":"o1","object":"model","created":0,"owned_by":"a"},{"id":"claude-3","object":"model","created":0,"owned_by":"c"}]}



=== TEST 45: GET models lists only the models the tenant may use
# request.c filters the listing with ngx_http_llm_client_model_check()
--- request
GET /v1/models
--- more_headers
Authorization: Bearer sk-beta-5678
--- error_code: 200
--- response_headers
X-Tenant: beta
--- response_body chomp
{"object":"list","data":[{"id":"gpt-4o","object":"model","created":0,"owned_by":"a"},{"id":"claude-3","object":"model","created":0,"owned_by":"c"}]}
--- no_error_log
[error]
