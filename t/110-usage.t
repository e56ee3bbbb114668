# Usage accounting and prices: $llm_prompt_tokens, $llm_completion_tokens,
# $llm_total_tokens, $llm_cost, $llm_ttft, $llm_tenant, from every kind of
# answer (OpenAI, Responses and Anthropic JSON; their SSE streams;
# embeddings), and llm_price with its errors.
#
# How the values are observed.  They are final only when the answer has
# ended, after the response header went out, so they are read from an
# access log line: the gateway location writes
#     access_log logs/access.log usage;
# (a path relative to the nginx prefix, i.e. the server root, which both
# the original Test::Nginx and t/lib's re-implementation pass with -p), and
# a block checks the line with "--- access_log".  Blocks that send several
# requests log to their own file instead and read it back at the end with
# a last request to "location = /ulog { alias logs/usage.log; }" (alias
# paths are relative to the prefix too): "--- access_log" cannot be given
# per request.
#
# Answers the mock cannot give (cache tokens, decoy "usage" members, huge
# counts) come from nginx itself: a provider location that does
# "return 200 '...'" with the right default_type.
#
# Reads split anywhere.  The router must find usage in answers that reach
# it in pieces cut at any byte.  nginx cannot cut its own output at a given
# byte, so the provider "s" of the split blocks is a small HTTP server in
# plain Perl (below), forked before run_tests() on a free loopback port
# ($TEST_NGINX_SPLIT_PORT, substituted in the config like every
# $TEST_NGINX_* variable).  It writes the response header with the first
# piece of the body, then each further piece after a pause of 1 ms (0.5 ms
# byte by byte), TCP_NODELAY on: nginx, idle otherwise, reads each piece
# on its own (the debug log shows one recv() per piece; under load pieces
# may merge, which weakens a run but never fails it).  The request's
# model says where to cut:
# "tag-k-0" cuts once, at byte k (two reads); "tag-j-S" cuts at every
# offset j, j+S, j+2S, ...; "tag-0-1" sends the body byte by byte.

BEGIN {
    # Several hundred requests below: Test::Nginx waits 3 x TEST_NGINX_SLEEP
    # (15 ms by default) before reading the logs after every request.  The
    # lines checked here are all written before the response ends (one
    # worker), so a shorter settle time loses nothing.
    $ENV{TEST_NGINX_SLEEP} ||= 0.002;
}

use Test::Nginx::Socket 'no_plan';

use IO::Socket::INET ();
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use POSIX ();
use Time::HiRes ();

no_shuffle();

# ---------------------------------------------------------------------------
# The answers of the split provider, and what the client must receive
# ---------------------------------------------------------------------------

# OpenAI stream: a content chunk, the usage-only chunk, [DONE].
# prompt 1200 (1000 cached), completion 34.
our $OA1 = qq{data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\n};
our $OA2 = qq{data: {"id":"c1","choices":[],"usage":{"prompt_tokens":1200,"completion_tokens":34,"total_tokens":1234,"prompt_tokens_details":{"cached_tokens":1000}}}\n\n};
our $OA3 = qq{data: [DONE]\n\n};

# Anthropic stream: input 20 + cache creation 100 + cache read 1000 = 1120
# prompt tokens (1000 cached) in message_start, whose output_tokens (1) the
# final output_tokens of message_delta (56) replace.
our $AN = qq{event: message_start\n}
        . qq{data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":1}}}\n\n}
        . qq{event: content_block_delta\n}
        . qq{data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}\n\n}
        . qq{event: message_delta\n}
        . qq{data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":56}}\n\n}
        . qq{event: message_stop\n}
        . qq{data: {"type":"message_stop"}\n\n};
(our $AN_CRLF = $AN) =~ s/\n/\r\n/g;
our $AN_START_LEN = index($AN, "event: content_block_delta");
our $AN_DELTA_AT  = index($AN, "event: message_delta");
our $AN_DELTA_LEN = index($AN, "event: message_stop") - $AN_DELTA_AT;

# Responses stream: the usage is in response.completed; response.created
# has "usage":null.  input 300 (200 cached), output 7.
our $RS = qq{event: response.created\n}
        . qq{data: {"type":"response.created","response":{"id":"r1","status":"in_progress","usage":null}}\n\n}
        . qq{event: response.output_text.delta\n}
        . qq{data: {"type":"response.output_text.delta","delta":"Hi"}\n\n}
        . qq{event: response.completed\n}
        . qq{data: {"type":"response.completed","response":{"id":"r1","status":"completed","usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":200},"output_tokens":7,"total_tokens":307}}}\n\n};

# OpenAI JSON with decoys: "usage" inside a string and as a nested member;
# only the top-level member counts.  prompt 40, completion 2.
our $OJ = q({"id":"c2","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"say \"usage\":{\"prompt_tokens\":999} {[\\\\"},"usage":{"prompt_tokens":777,"completion_tokens":777}}],)
        . q("usage" : {"prompt_tokens":40,"completion_tokens":2,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":null});

# Anthropic JSON: input 3 + 5 + 7 = 15 prompt (7 cached), output 9.
our $AJ = q({"id":"msg_2","type":"message","role":"assistant","content":[{"type":"text","text":"usage"}],)
        . q("usage":{"input_tokens":3,"cache_creation_input_tokens":5,"cache_read_input_tokens":7,"output_tokens":9}});

# Big answers: a 300 KB content chunk (more than the 256 KB the router
# holds back of one event) before the usage chunk; a 200 KB JSON answer
# whose usage comes last.
our $BIG = CORE::join '', map { "word$_ \\\"q\\\" " } 1 .. 24000;
our $OA_BIG1 = qq{data: {"id":"c1","choices":[{"index":0,"delta":{"content":"$BIG"}}],"usage":null}\n\n};
our $OJ_BIG = qq({"id":"c3","choices":[{"index":0,"message":{"role":"assistant","content":"$BIG"}}],)
            . q("usage":{"prompt_tokens":40,"completion_tokens":2}});

# The OpenAI stream with CRLF line ends: a read may end between the CR and
# the LF of the blank line that ends the usage chunk the router removes.
our ($OA1_CRLF, $OA2_CRLF, $OA3_CRLF) = map { (my $e = $_) =~ s/\n/\r\n/g; $e }
                                        $OA1, $OA2, $OA3;

our %Answer = (
    big_openai_sse       => ['close',  $OA_BIG1 . $OA3],
    big_openai_sse_usage => ['close',  $OA_BIG1 . $OA2 . $OA3],
    big_openai_json      => ['length', $OJ_BIG],
    openai_sse         => ['close',   $OA1 . $OA3],    # no usage unless asked
    openai_sse_usage   => ['close',   $OA1 . $OA2 . $OA3],
    openai_sse_usage_crlf => ['close', $OA1_CRLF . $OA2_CRLF . $OA3_CRLF],
    anthropic_sse      => ['chunked', $AN],
    anthropic_sse_crlf => ['chunked', $AN_CRLF],
    responses_sse      => ['close',   $RS],
    openai_json        => ['length',  $OJ],
    anthropic_json     => ['length',  $AJ],
);

# The models of a split block's requests, which tell the split provider
# where to cut: "tag-k-0" for every k (two reads), or "tag-j-S" for every
# j < S; then "tag-0-1", byte by byte.
sub split_models {
    my ($tag, $len, $stride) = @_;
    my @cuts = $stride ? map { "$_-$stride" } 0 .. $stride - 1
                       : map { "$_-0" } 1 .. $len - 1;
    return map { "$tag-$_" } @cuts, "0-1";
}

our @OA_SPLIT     = split_models('oa', length($OA1 . $OA2 . $OA3), 0);
our @OAU_SPLIT    = split_models('oau', 0, 8);
our @OACRLF_SPLIT = split_models('oacrlf',
                                  length($OA1_CRLF . $OA2_CRLF . $OA3_CRLF), 0);
# Anthropic: every offset of message_start and of message_delta (from the
# end of the event before), and the blank line that ends each
our @AN_SPLIT     = grep { my ($k) = /^an-(\d+)-0$/; !defined $k
                               || $k <= $AN_START_LEN + 1
                               || ($k >= $AN_DELTA_AT - 1 && $k <= $AN_DELTA_AT + $AN_DELTA_LEN + 1) }
                    split_models('an', length($AN), 0);
our @ANCRLF_SPLIT = split_models('ancrlf', 0, 8);
our @RS_SPLIT     = split_models('rs', 0, 8);
our @OJ_SPLIT     = split_models('oj', 0, 8);
our @AJ_SPLIT     = split_models('aj', 0, 8);

# ---------------------------------------------------------------------------
# The split provider
# ---------------------------------------------------------------------------

our $SplitPid;

sub split_serve {
    my $c = shift;
    setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);

    my $req = '';
    while ($req !~ /\r\n\r\n/) {
        my $n = sysread($c, $req, 65536, length $req);
        return unless $n;
    }

    my ($head, $body) = split /\r\n\r\n/, $req, 2;
    my $want = $head =~ /^content-length:\s*(\d+)/mi ? $1 : 0;
    while (length $body < $want) {
        my $n = sysread($c, $body, 65536, length $body);
        return unless $n;
    }

    my ($path) = $head =~ m{^POST (\S+)};
    my ($tag, $j, $s) = $body =~ /"model":"([a-z_]+)-(\d+)-(\d+)"/;
    $path //= '';
    $tag //= '';
    ($j, $s) = (0, 0) unless defined $s;

    my $name = '';
    if ($path =~ m{/messages$}) {
        $name = $body !~ /"stream":true/ ? 'anthropic_json'
              : $tag =~ /crlf/ ? 'anthropic_sse_crlf' : 'anthropic_sse';

    } elsif ($path =~ m{/responses$}) {
        $name = 'responses_sse';

    } elsif ($path =~ m{/chat/completions$}) {
        # the usage chunk only if asked for, as OpenAI does
        $name = $body !~ /"stream":true/ ? 'openai_json'
              : $body =~ /"stream_options":\{"include_usage":true\}/
                ? ($tag =~ /crlf/ ? 'openai_sse_usage_crlf' : 'openai_sse_usage')
              : 'openai_sse';
    }

    $name = "big_$name" if $tag =~ /^big/;

    my ($framing, $data) = $Answer{$name} ? @{ $Answer{$name} }
                                          : ('length', qq{{"error":"no answer for $path"}});

    my $hdr = "HTTP/1.1 200 OK\r\n"
            . "Content-Type: " . ($name =~ /sse/ ? "text/event-stream" : "application/json") . "\r\n"
            . ($framing eq 'length' ? "Content-Length: " . length($data) . "\r\n"
               : $framing eq 'chunked' ? "Transfer-Encoding: chunked\r\n" : '')
            . "Connection: close\r\n\r\n";

    my $len = length $data;
    my @cuts = grep { $_ > 0 && $_ < $len }
               $s == 0 ? ($j) : map { $_ * $s + $j } 0 .. int($len / $s);
    @cuts = (0, @cuts, $len);

    for my $i (0 .. $#cuts - 1) {
        my $piece = substr $data, $cuts[$i], $cuts[$i + 1] - $cuts[$i];
        $piece = sprintf("%x\r\n%s\r\n", length $piece, $piece) if $framing eq 'chunked';
        $piece = $hdr . $piece if $i == 0;
        $piece .= "0\r\n\r\n" if $framing eq 'chunked' && $i == $#cuts - 1;
        # the CRLF blocks pause longer: their two reads must stay two
        Time::HiRes::sleep($tag =~ /crlf/ && $s == 0 ? 0.02
                           : $s == 1 ? 0.0005 : 0.001) if $i > 0;
        syswrite($c, $piece) or return;
    }
}

sub split_server_start {
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                    Listen => 64, ReuseAddr => 1, Proto => 'tcp')
        or die "split provider: cannot listen: $!\n";

    $ENV{TEST_NGINX_SPLIT_PORT} = $srv->sockport;

    my $parent = $$;
    $SplitPid = fork;
    die "split provider: fork: $!\n" unless defined $SplitPid;

    if ($SplitPid == 0) {
        alarm 600;    # never outlive the test run
        while (1) {
            my $c = $srv->accept or next;
            split_serve($c);
            close $c;
            POSIX::_exit(0) if getppid() != $parent;
        }
    }

    close $srv;
}

END {
    local $?;
    if ($SplitPid) {
        kill 'KILL', $SplitPid;
        waitpid $SplitPid, 0;
    }
}

split_server_start();

# The split blocks share one configuration.
our $SplitHttpConfig = <<'_EOC_';
log_format split '$llm_model $llm_prompt_tokens $llm_completion_tokens $llm_total_tokens $llm_cost';
llm_upstream s responses=on host=127.0.0.1 port=$TEST_NGINX_SPLIT_PORT tls=off path=/v1 key=sk-s;
llm_upstream sa api=anthropic host=127.0.0.1 port=$TEST_NGINX_SPLIT_PORT tls=off path=/v1 key=sk-s;
llm_route default s;
llm_route ~^(an|ancrlf|aj)- sa;
llm_price s:* input=3 output=15 cached_input=0.3;
llm_price sa:* input=3 output=15 cached_input=0.3;
_EOC_

our $SplitConfig = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/split.log split;
}
location = /splitlog { alias logs/split.log; }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if ($block->name =~ /\bsplit\b/) {
        $block->set_value(http_config => $SplitHttpConfig) unless defined $block->http_config;
        $block->set_value(config => $SplitConfig) unless defined $block->config;
    }
});

# Blocks share their setup: a block without its own --- http_config
# gets the one below (a block without --- config reuses the
# running nginx and needs none).

our $HttpConfig = <<'_EOC_';
log_format usage 'usage: $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2.5 output=10;
_EOC_

add_block_preprocessor(sub {
    my $block = shift;

    if (defined $block->config && !defined $block->http_config) {
        $block->set_value('http_config', $HttpConfig);
    }
});

run_tests();

__DATA__

=== TEST 1: chat completion (JSON): tokens, total and cost
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_price a:gpt-4o input=2.5 output=10;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=11 completion_tokens=7; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock provider"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}
--- access_log
usage: a gpt-4o p=11 c=7 t=18 cost=0.000097500;
--- no_error_log
[error]
[warn]



=== TEST 2: legacy completions (JSON)
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=1 output=2;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1000 completion_tokens=500; }
--- request
POST /v1/completions
{"model":"davinci","prompt":"hi"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: davinci p=1000 c=500 t=1500 cost=0.002000000;
--- no_error_log
[error]
[warn]



=== TEST 3: embeddings: prompt tokens only, completion 0
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=0.02 output=100;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=5000; }
--- request
POST /v1/embeddings
{"model":"text-embedding-3-small","input":"hi"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2,0.3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":5000,"total_tokens":5000}}
--- access_log
usage: text-embedding-3-small p=5000 c=0 t=5000 cost=0.000100000;
--- no_error_log
[error]
[warn]



=== TEST 4: Responses API (JSON): input_tokens and output_tokens
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2 output=8;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=300 completion_tokens=40; }
--- request
POST /v1/responses
{"model":"gpt-4.1","input":"hi"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: gpt-4.1 p=300 c=40 t=340 cost=0.000920000;
--- no_error_log
[error]
[warn]



=== TEST 5: Anthropic messages (JSON): input_tokens and output_tokens
--- http_config
log_format usage 'usage: $llm_provider $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route claude-sonnet-4 c;
llm_price c:claude-sonnet-4 input=3 output=15;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/c/v1/ { llm_mock prompt_tokens=11 completion_tokens=7; }
--- request
POST /v1/messages
{"model":"claude-sonnet-4","max_tokens":100,"messages":[{"role":"user","content":"hi"}]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"id":"msg_mock","type":"message","role":"assistant","model":"claude-sonnet-4","content":[{"type":"text","text":"Hello from the mock provider"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":7,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}
--- access_log
usage: c claude-sonnet-4 p=11 c=7 t=18 cost=0.000138000;
--- no_error_log
[error]
[warn]



=== TEST 6: OpenAI cached prompt tokens are priced at cached_input
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2.5 output=10 cached_input=1.25;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,"prompt_tokens_details":{"cached_tokens":400}}}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: gpt-4o p=1000 c=50 t=1050 cost=0.002500000;
--- no_error_log
[error]
[warn]



=== TEST 7: without cached_input, cached tokens cost the input price
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2.5 output=10;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"id":"x","object":"chat.completion","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":50,"total_tokens":1050,"prompt_tokens_details":{"cached_tokens":400}}}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: gpt-4o p=1000 c=50 t=1050 cost=0.003000000;
--- no_error_log
[error]
[warn]



=== TEST 8: Anthropic cache tokens: prompt = input + cache creation + cache read; cache reads at cached_input
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-c;
llm_route default c;
llm_price c:* input=3 output=15 cached_input=0.3;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":20,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000,"output_tokens":56}}';
}
--- request
POST /v1/messages
{"model":"claude-sonnet-4","max_tokens":100,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: claude-sonnet-4 p=1120 c=56 t=1176 cost=0.001500000;
--- no_error_log
[error]
[warn]



=== TEST 9: Responses API cached tokens (input_tokens_details.cached_tokens)
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=3 output=15 cached_input=0.3;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"id":"r1","object":"response","status":"completed","output":[],"usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":200},"output_tokens":7,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":307}}';
}
--- request
POST /v1/responses
{"model":"o4-mini","input":"hi"}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: o4-mini p=300 c=7 t=307 cost=0.000465000;
--- no_error_log
[error]
[warn]



=== TEST 10: only the top-level "usage" counts, not one nested or inside a string
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"choices":[{"message":{"content":"\\"usage\\":{\\"prompt_tokens\\":999}","usage":{"prompt_tokens":888,"completion_tokens":888}}}],"x":{"usage":{"prompt_tokens":777}},"usage":{"prompt_tokens":5,"completion_tokens":6}}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":999}","usage":{"prompt_tokens":888,"completion_tokens":888}}}],"x":{"usage":{"prompt_tokens":777}},"usage":{"prompt_tokens":5,"completion_tokens":6}}
--- access_log
usage: gpt-4o p=5 c=6 t=11;
--- no_error_log
[error]
[warn]



=== TEST 11: "usage": null is no usage: the variables are empty and it is logged
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=1 output=1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"id":"x","usage":null,"choices":[]}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: gpt-4o p=- c=- t=- cost=-;
--- error_log
no usage in the answer of provider "a"
--- no_error_log
[error]



=== TEST 12: a provider that omits usage (mock no_usage): empty variables, logged once
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=1 output=1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock no_usage; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body chomp
{"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock provider"},"finish_reason":"stop"}]}
--- access_log
usage: gpt-4o p=- c=- t=- cost=-;
--- grep_error_log eval
qr/no usage in the answer of provider "\w+"/
--- grep_error_log_out
no usage in the answer of provider "a"
--- no_error_log
[error]



=== TEST 13: usage in an error answer passed to the client (400) is not counted
--- http_config
log_format usage 'usage: $status $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=1 output=1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 400 '{"error":{"message":"bad","type":"invalid_request_error"},"usage":{"prompt_tokens":5,"completion_tokens":6}}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body chomp
{"error":{"message":"bad","type":"invalid_request_error"},"usage":{"prompt_tokens":5,"completion_tokens":6}}
--- access_log
usage: 400 gpt-4o p=- c=- t=- cost=-;
--- no_error_log
no usage in the answer
[error]



=== TEST 14: errors of the router itself carry no usage
--- http_config
log_format usage 'usage: $status [$llm_model] p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost ttft=$llm_ttft;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a;
llm_price a:* input=1 output=1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock; }
--- request
POST /v1/chat/completions
{"model":"nope","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 404
--- access_log
usage: 404 [nope] p=- c=- t=- cost=- ttft=-;
--- no_error_log
no usage in the answer
[error]



=== TEST 15: OpenAI stream: the router asks for usage, counts it and removes the usage chunk
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=11 completion_tokens=7 "content=Hi there"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body eval
qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi "},"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"there"},"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n}
. qq{data: [DONE]\n\n}
--- access_log
usage: gpt-4o stream=1 p=11 c=7 t=18 cost=0.000097500;
--- no_error_log
[error]
[warn]



=== TEST 16: OpenAI stream, the client asked for usage: counted, and the usage chunk stays
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=11 completion_tokens=7 "content=Hi there"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi "},"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"there"},"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}\n\n}
. qq{data: [DONE]\n\n}
--- access_log
usage: gpt-4o stream=1 p=11 c=7 t=18 cost=0.000097500;
--- no_error_log
[error]
[warn]



=== TEST 17: legacy completions stream: usage counted, usage chunk removed
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=3 completion_tokens=4 "content=Hi there"; }
--- request
POST /v1/completions
{"model":"davinci","prompt":"x","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
qq{data: {"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":"davinci","choices":[{"text":"Hi ","index":0,"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":"davinci","choices":[{"text":"there","index":0,"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"cmpl-mock","object":"text_completion","created":1700000000,"model":"davinci","choices":[{"text":"","index":0,"finish_reason":"stop"}],"usage":null}\n\n}
. qq{data: [DONE]\n\n}
--- access_log
usage: davinci p=3 c=4 t=7;
--- no_error_log
[error]
[warn]



=== TEST 18: Anthropic stream: input from message_start, the final output_tokens from message_delta
--- http_config
log_format usage 'usage: $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream c api=anthropic host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route default c;
llm_price c:* input=3 output=15;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/c/v1/ { llm_mock prompt_tokens=11 completion_tokens=7 "content=Hi there"; }
--- request
POST /v1/messages
{"model":"claude-sonnet-4","max_tokens":100,"stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
qq{event: message_start\ndata: {"type":"message_start","message":{"id":"msg_mock","type":"message","role":"assistant","model":"claude-sonnet-4","content":[],"stop_reason":null,"usage":{"input_tokens":11,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}\n\n}
. qq{event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n}
. qq{event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi "}}\n\n}
. qq{event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"there"}}\n\n}
. qq{event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n}
. qq{event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":7}}\n\n}
. qq{event: message_stop\ndata: {"type":"message_stop"}\n\n}
--- access_log
usage: claude-sonnet-4 stream=1 p=11 c=7 t=18 cost=0.000138000;
--- no_error_log
[error]
[warn]



=== TEST 19: Responses API stream: usage from response.completed
--- http_config
log_format usage 'usage: $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2 output=8;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=300 completion_tokens=40; }
--- request
POST /v1/responses
{"model":"gpt-4.1","input":"hi","stream":true}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body_like: \A(?:event: response\.[a-z_.]+\ndata: \{[^\n]+\}\n\n)+\z
--- access_log
usage: gpt-4.1 stream=1 p=300 c=40 t=340 cost=0.000920000;
--- no_error_log
[error]
[warn]



=== TEST 20: a stream without usage (mock no_usage): empty variables, logged
--- http_config
log_format usage 'usage: $llm_model stream=$llm_stream p=$llm_prompt_tokens c=$llm_completion_tokens t=$llm_total_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2 output=8;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock no_usage "content=Hi"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- response_body eval
qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}\n\n}
. qq{data: {"id":"chatcmpl-mock","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n}
. qq{data: [DONE]\n\n}
--- access_log
usage: gpt-4o stream=1 p=- c=- t=- cost=-;
--- error_log
no usage in the answer of provider "a"
--- no_error_log
[error]



=== TEST 21: which price: provider:model of the model sent upstream, else provider:*, never the client's name
--- http_config
log_format usage '$llm_model>$llm_upstream_model $llm_prompt_tokens $llm_completion_tokens $llm_cost';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route gpt-4o a:gpt-4o-2024-08-06;
llm_route mini a:gpt-4o-mini;
llm_route default a;
llm_price a:gpt-4o input=100 output=100;
llm_price a:* input=1 output=1;
llm_price a:gpt-4o-2024-08-06 input=2.5 output=10;
llm_price a:o3 input=2 output=8;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/usage.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=11 completion_tokens=7; }
location = /ulog { alias logs/usage.log; }
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","messages":[]}} } qw(gpt-4o mini o3 other)), "GET /ulog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_like eval
[qr/"model":"gpt-4o-2024-08-06"/, qr/"model":"gpt-4o-mini"/, qr/"model":"o3"/, qr/"model":"other"/,
 qr/\Agpt-4o>gpt-4o-2024-08-06 11 7 0.000097500\nmini>gpt-4o-mini 11 7 0.000018000\no3>o3 11 7 0.000078000\nother>other 11 7 0.000018000\n\z/]
--- no_error_log
[error]
[warn]



=== TEST 22: after a failover the provider that served is priced
--- http_config
log_format usage 'usage: $llm_attempts $llm_provider p=$llm_prompt_tokens c=$llm_completion_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b;
llm_route default a b;
llm_price a:* input=100 output=100;
llm_price b:* input=3 output=15;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock status=503; }
location /mock/b/v1/ { llm_mock prompt_tokens=11 completion_tokens=7; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: a:503 b:200 b p=11 c=7 cost=0.000138000;
--- no_error_log
[alert]
[crit]



=== TEST 23: no llm_price for the provider: the cost is zero
--- http_config
log_format usage 'usage: $llm_model p=$llm_prompt_tokens c=$llm_completion_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-b;
llm_route default a;
llm_price b:* input=3 output=15;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=11 completion_tokens=7; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: gpt-4o p=11 c=7 cost=0.000000000;
--- no_error_log
[error]
[warn]



=== TEST 24: large counts and the smallest price keep every digit (nano-USD)
--- http_config
log_format usage '$llm_provider $llm_prompt_tokens $llm_completion_tokens $llm_total_tokens $llm_cost';
llm_upstream big host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/big/v1 key=sk-a;
llm_upstream tiny host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/tiny/v1 key=sk-a;
llm_route big big;
llm_route tiny tiny;
llm_price big:* input=2.5 output=10;
llm_price tiny:* input=0.000001 output=0.000001;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/usage.log usage;
}
location /big/v1/ {
    default_type application/json;
    return 200 '{"usage":{"prompt_tokens":123456789,"completion_tokens":987654321}}';
}
location /tiny/v1/ {
    default_type application/json;
    return 200 '{"usage":{"prompt_tokens":4000,"completion_tokens":1000}}';
}
location = /ulog { alias logs/usage.log; }
--- request eval
[ qq{POST /v1/chat/completions\n{"model":"big","messages":[]}},
  qq{POST /v1/chat/completions\n{"model":"tiny","messages":[]}},
  "GET /ulog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200]
--- response_body eval
[ '{"usage":{"prompt_tokens":123456789,"completion_tokens":987654321}}',
  '{"usage":{"prompt_tokens":4000,"completion_tokens":1000}}',
  "big 123456789 987654321 1111111110 10185.185182500\ntiny 4000 1000 5000 0.000000005\n" ]
--- no_error_log
[error]
[warn]



=== TEST 25: more cached tokens than prompt tokens: the cache never makes the cost negative
--- http_config
log_format usage 'usage: p=$llm_prompt_tokens c=$llm_completion_tokens cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/answer/v1 key=sk-a;
llm_route default a;
llm_price a:* input=2 output=4 cached_input=1;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /answer/v1/ {
    default_type application/json;
    return 200 '{"usage":{"prompt_tokens":10,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":50}}}';
}
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: p=10 c=5 cost=0.000030000;
--- no_error_log
[error]
[warn]



=== TEST 26: $llm_ttft: seconds to the first byte of a delayed answer
--- http_config
log_format usage 'usage: ttft=$llm_ttft p=$llm_prompt_tokens;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock delay=300ms prompt_tokens=2; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log eval
qr/usage: ttft=0\.3[0-9]{2} p=2;/
--- no_error_log
[error]
[warn]



=== TEST 27: $llm_ttft of a stream is the first event, not the end
The first event leaves after 200 ms and the last after at least 650 ms;
the bounds leave room for a loaded machine but never overlap.
--- http_config
log_format usage 'usage: ttft=$llm_ttft rt=$request_time p=$llm_prompt_tokens;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock delay=200ms interval=150ms prompt_tokens=2 "content=one two three"; }
--- request
POST /v1/chat/completions
{"model":"gpt-4o","stream":true,"messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log eval
qr/usage: ttft=0\.[2-4][0-9]{2} rt=(?:0\.[7-9]|[1-3]\.[0-9])[0-9]{2} p=2;/
--- no_error_log
[error]
[warn]



=== TEST 28: $llm_tenant of a client key
--- http_config
log_format usage 'usage: tenant=$llm_tenant p=$llm_prompt_tokens;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_client_keys ../html/keys.txt;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=3; }
--- user_files
>>> keys.txt
sk-team-red-0001 red
sk-team-blue-0002 blue
--- request
POST /v1/chat/completions
{"model":"gpt-4o","messages":[]}
--- more_headers
Content-Type: application/json
Authorization: Bearer sk-team-blue-0002
--- error_code: 200
--- access_log
usage: tenant=blue p=3;
--- no_error_log
[error]
[warn]



=== TEST 29: split: OpenAI stream, usage not asked: two reads cut at every byte offset
The router adds include_usage (else the provider sends no usage chunk and
the log shows "-"), counts the usage chunk wherever it is cut and removes
it: the client gets every other byte as sent.
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","stream":true,"messages":[{"role":"user","content":"hi"}]}} }
   @::OA_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::OA_SPLIT), 200 ]
--- response_body eval
[ (map { $::OA1 . $::OA3 } @::OA_SPLIT),
  CORE::join '', map { "$_ 1200 34 1234 0.001410000\n" } @::OA_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 30: split: OpenAI stream, usage asked by the client: counted, kept, cut 8 ways and byte by byte
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","stream":true,"stream_options":{"include_usage":true},"messages":[]}} }
   @::OAU_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::OAU_SPLIT), 200 ]
--- response_body eval
[ (map { $::OA1 . $::OA2 . $::OA3 } @::OAU_SPLIT),
  CORE::join '', map { "$_ 1200 34 1234 0.001410000\n" } @::OAU_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 31: split: Anthropic stream: two reads cut at every byte offset of message_start and of message_delta
Chunked framing from the provider, one chunk per piece.
--- request eval
[ (map { qq{POST /v1/messages\n{"model":"$_","max_tokens":64,"stream":true,"messages":[]}} }
   @::AN_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::AN_SPLIT), 200 ]
--- response_body eval
[ (map { $::AN } @::AN_SPLIT),
  CORE::join '', map { "$_ 1120 56 1176 0.001500000\n" } @::AN_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 32: split: Anthropic stream with CRLF line ends, cut 8 ways and byte by byte
--- request eval
[ (map { qq{POST /v1/messages\n{"model":"$_","max_tokens":64,"stream":true,"messages":[]}} }
   @::ANCRLF_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::ANCRLF_SPLIT), 200 ]
--- response_body eval
[ (map { $::AN_CRLF } @::ANCRLF_SPLIT),
  CORE::join '', map { "$_ 1120 56 1176 0.001500000\n" } @::ANCRLF_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 33: split: Responses API stream, cut 8 ways and byte by byte
--- request eval
[ (map { qq{POST /v1/responses\n{"model":"$_","input":"hi","stream":true}} }
   @::RS_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::RS_SPLIT), 200 ]
--- response_body eval
[ (map { $::RS } @::RS_SPLIT),
  CORE::join '', map { "$_ 300 7 307 0.000465000\n" } @::RS_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 34: split: OpenAI JSON with decoy "usage" members, cut 8 ways and byte by byte
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","messages":[]}} }
   @::OJ_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::OJ_SPLIT), 200 ]
--- response_body eval
[ (map { $::OJ } @::OJ_SPLIT),
  CORE::join '', map { "$_ 40 2 42 0.000150000\n" } @::OJ_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 35: split: Anthropic JSON, cut 8 ways and byte by byte
--- request eval
[ (map { qq{POST /v1/messages\n{"model":"$_","max_tokens":64,"messages":[]}} }
   @::AJ_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::AJ_SPLIT), 200 ]
--- response_body eval
[ (map { $::AJ } @::AJ_SPLIT),
  CORE::join '', map { "$_ 15 9 24 0.000161100\n" } @::AJ_SPLIT ]
--- no_error_log
[error]
[warn]



=== TEST 36: split: a 300 KB event, more than the router holds back, before the usage chunk
It goes on whole; the usage chunk after it is still counted and removed.
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","stream":true,"messages":[]}} } qw(bigsse-0-0 bigsse-0-8192 bigsse-5000-65536)),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[ (map { $::OA_BIG1 . $::OA3 } 1 .. 3),
  CORE::join '', map { "$_ 1200 34 1234 0.001410000\n" } qw(bigsse-0-0 bigsse-0-8192 bigsse-5000-65536) ]
--- no_error_log
[error]
[warn]



=== TEST 37: split: a 200 KB JSON answer with its usage at the end
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","messages":[]}} } qw(bigjson-0-0 bigjson-0-8192 bigjson-77-4096)),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
[ (map { $::OJ_BIG } 1 .. 3),
  CORE::join '', map { "$_ 40 2 42 0.000150000\n" } qw(bigjson-0-0 bigjson-0-8192 bigjson-77-4096) ]
--- no_error_log
[error]
[warn]



=== TEST 38: valid llm_price forms are accepted
--- http_config
log_format usage 'usage: $llm_model cost=$llm_cost;';
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_route default a;
llm_price a:* input=0 output=0;
llm_price a:m1 input=1 output=2 cached_input=0.5;
llm_price a:m2 output=0.000001 input=15;
llm_price a:llama3:8b input=.5 output=1.25;
llm_price a:gpt-4o input=1000000 output=1000000;
--- config
location /v1/ {
    include ../../../conf/llm_params;
    access_log logs/access.log usage;
}
location /mock/a/v1/ { llm_mock prompt_tokens=1000000 completion_tokens=0; }
--- request
POST /v1/chat/completions
{"model":"llama3:8b","messages":[]}
--- more_headers
Content-Type: application/json
--- error_code: 200
--- access_log
usage: llama3:8b cost=0.500000000;
--- no_error_log
[error]
[emerg]



=== TEST 39: llm_price: no "provider:model"
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a input=1 output=2;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "a" in llm_price: provider:model expected in \S+/nginx\.conf:27$}



=== TEST 40: llm_price: empty provider
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price :m input=1 output=2;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid ":m" in llm_price: provider:model expected}



=== TEST 41: llm_price: empty model
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a: input=1 output=2;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid "a:" in llm_price: provider:model expected}



=== TEST 42: llm_price: unknown provider, with the price's own file and line
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;

llm_price zz:m input=1 output=2;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*unknown llm_upstream "zz" in llm_price in \S+/nginx\.conf:28}



=== TEST 43: llm_price: the same provider:model twice
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 output=2;
llm_price a:m input=3 output=4;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*duplicate llm_price "a:m" in \S+/nginx\.conf:28$}



=== TEST 44: llm_price: unknown parameter
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 output=2 cache_write=3;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid parameter "cache_write=3" in llm_price in \S+/nginx\.conf:27$}



=== TEST 45: llm_price: output missing
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 cached_input=0.5;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_price "a:m" needs "input=" and "output="}



=== TEST 46: llm_price: input missing
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*llm_price "a:m" needs "input=" and "output="}



=== TEST 47: llm_price: a price that is no number
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=abc output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=abc" in llm_price}



=== TEST 48: llm_price: a negative price
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 output=-2;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "output=-2" in llm_price}



=== TEST 49: llm_price: more than 6 decimals
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=0.0000001 output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=0\.0000001" in llm_price}



=== TEST 50: llm_price: a dot without decimals
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1. output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=1\." in llm_price}



=== TEST 51: llm_price: two dots
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 output=1.2.3;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "output=1\.2\.3" in llm_price}



=== TEST 52: llm_price: empty value
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input= output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=" in llm_price}



=== TEST 53: llm_price: exponent notation
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1e3 output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=1e3" in llm_price}



=== TEST 54: llm_price: a price too large to count
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=99999999999999999999 output=1;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "input=99999999999999999999" in llm_price}



=== TEST 55: llm_price: cached_input invalid
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m input=1 output=1 cached_input=x;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid price "cached_input=x" in llm_price}



=== TEST 56: llm_price: no prices at all
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
llm_price a:m;
--- config
location /v1/ { include ../../../conf/llm_params; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid number of arguments in "llm_price" directive}



=== TEST 57: llm_price is an http-level directive
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off key=k;
llm_route m a;
--- config
location /v1/ {
    llm_price a:m input=1 output=1;
    include ../../../conf/llm_params;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_price" directive is not allowed here}



=== TEST 58: split: OpenAI stream with CRLF line ends, usage not asked: two reads cut at every byte offset
The usage chunk the router removes goes with both bytes of its blank
line's CRLF, also when a read ends between them (a CR ends a line, and
the LF after it, in the next read, belongs to the same line end).
--- request eval
[ (map { qq{POST /v1/chat/completions\n{"model":"$_","stream":true,"messages":[]}} }
   @::OACRLF_SPLIT),
  "GET /splitlog" ]
--- more_headers
Content-Type: application/json
--- error_code eval
[ (map { 200 } @::OACRLF_SPLIT), 200 ]
--- response_body eval
[ (map { $::OA1_CRLF . $::OA3_CRLF } @::OACRLF_SPLIT),
  CORE::join '', map { "$_ 1200 34 1234 0.001410000\n" } @::OACRLF_SPLIT ]
--- no_error_log
[error]
[warn]
