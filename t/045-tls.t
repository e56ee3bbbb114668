# TLS to providers: SNI and Host are the provider's host=, the certificate
# is verified (conf/llm_params turns verification on), and a provider whose
# certificate does not match fails over like any connect error.
#
# The gateway location repeats conf/llm_params but for the trusted CA,
# which here is the test CA instead of the system bundle (nginx refuses a
# directive twice in one location).  The certificates, shared with t/160
# and t/320, are in t/cert/ (paths relative to t/servroot/conf/).

use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: TLS provider: SNI and Host are host=, the certificate is verified
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream p upstream=provider_tls host=provider.test tls=on path=/v1 key=sk-tls;
llm_route m p;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    location /v1/ {
        default_type application/json;
        return 200 '{"sni":"$ssl_server_name","host":"$http_host","auth":"$http_authorization","uri":"$uri"}';
    }
}
--- config
location /v1/ {
    llm_router on;
    proxy_pass https://llm_router;
    proxy_http_version 1.1;
    proxy_next_upstream error timeout http_502 non_idempotent;
    proxy_set_header Host $llm_upstream_host;
    proxy_set_header Connection "";
    proxy_set_header Authorization $llm_upstream_authorization;
    proxy_set_header x-api-key $llm_upstream_x_api_key;
    proxy_set_header api-key "";
    proxy_set_header OpenAI-Organization "";
    proxy_set_header OpenAI-Project "";
    proxy_set_header anthropic-version $llm_upstream_anthropic_version;
    proxy_set_header Accept-Encoding "";
    proxy_set_header Forwarded "";
    proxy_set_header X-Forwarded-For "";
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 4;
    proxy_ssl_session_reuse on;
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_ssl_trusted_certificate ../../cert/ca.crt;
}
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer client-key
--- error_code: 200
--- response_body chomp
{"sni":"provider.test","host":"provider.test","auth":"Bearer sk-tls","uri":"/v1/chat/completions"}
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: a certificate that does not match host= is a connect error: failover
--- http_config
upstream provider_tls {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
llm_upstream wrong upstream=provider_tls host=other.test tls=on path=/v1 key=sk-wrong;
llm_upstream plain host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key=sk-plain;
llm_route m wrong plain;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl;
    ssl_certificate ../../cert/provider.crt;
    ssl_certificate_key ../../cert/provider.key;
    location /v1/ { return 200 'must not be reached'; }
}
--- config
location /v1/ {
    llm_router on;
    proxy_pass https://llm_router;
    proxy_http_version 1.1;
    proxy_next_upstream error timeout http_502 non_idempotent;
    proxy_set_header Host $llm_upstream_host;
    proxy_set_header Connection "";
    proxy_set_header Authorization $llm_upstream_authorization;
    proxy_set_header x-api-key $llm_upstream_x_api_key;
    proxy_set_header api-key "";
    proxy_set_header OpenAI-Organization "";
    proxy_set_header OpenAI-Project "";
    proxy_set_header anthropic-version $llm_upstream_anthropic_version;
    proxy_set_header Accept-Encoding "";
    proxy_set_header Forwarded "";
    proxy_set_header X-Forwarded-For "";
    proxy_ssl_server_name on;
    proxy_ssl_verify on;
    proxy_ssl_verify_depth 4;
    proxy_ssl_session_reuse on;
    proxy_buffering off;
    proxy_request_buffering on;
    proxy_ssl_trusted_certificate ../../cert/ca.crt;
    add_header X-Attempts $llm_attempts always;
}
location /mock/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
X-Attempts: wrong:error plain:200
--- response_body_like: "content":"Hello from the mock provider"
--- error_log
upstream SSL certificate does not match "other.test"
--- no_error_log
[alert]
[crit]



=== TEST 3: a tls=off provider behind "proxy_pass https://llm_router" speaks plain HTTP
--- http_config
llm_upstream plain host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/v1 key=sk-plain;
llm_route m plain;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/v1/ { llm_mock echo=headers; }
--- request
POST /v1/chat/completions
{"model":"m","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: ^POST /mock/v1/chat/completions\nHost: 127\.0\.0\.1:\d+\nAuthorization: Bearer sk-plain\n
--- no_error_log
[error]
