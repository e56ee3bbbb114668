# llm_status: the zone's counters as Prometheus text, JSON and an HTML page.
#
# Every block first sends known traffic through a router location to the
# llm_mock provider (prompt tokens = body bytes / 4, 5 completion tokens
# for the default content), then reads a status location.  Several
# requests of one block go on separate connections (--- request eval) or,
# when each needs its own headers (client keys), pipelined on one.
#
# Checks that a regex cannot express well (a JSON document, the Prometheus
# exposition format, the page as a browser renders it) are Perl code run by
# add_response_body_check on the last response of a block; they run while
# that block's nginx is up.  The last block renders the HTML page in
# headless Chromium (Debian's "chromium"; skipped, saying so, when it is not
# installed), keeps a screenshot in the servroot and prints its path.
#
# Every block gets its own zone name and a unique config (a comment with its
# name), so that nginx restarts and no counter leaks from block to block,
# also with TEST_NGINX_USE_HUP.

use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use File::Path ();

no_shuffle();

our $Body = q{{"model":"m1","messages":[{"role":"user","content":"hello there, how are you?"}]}};

# 81 bytes: 20 prompt tokens, 5 completion tokens per request
sub chat ($) {
    my $model = shift;
    (my $b = $::Body) =~ s/"m1"/"$model"/;
    return "POST /v1/chat/completions\n$b";
}

# the client's model <b>"x\y, as JSON
our $Evil = q{<b>\"x\\\\y};

our $HttpConfig = <<'_EOC_';
llm_zone ZONE 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-provider-a-secret;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-provider-b-secret max_fails=1 fail_timeout=30s;
llm_route m1 a;
llm_route m2 b a;
llm_price a:m1 input=1.5 output=2 cached_input=0.5;
llm_budget key=$http_x_team tokens=100000/d requests=100/h cost=5/mo name=team;
_EOC_

our $Config = <<'_EOC_';
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock status=503; }
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
location = /status.html { llm_status html; }
_EOC_

# m1 twice, m2 (b fails, a serves), an unknown model with odd bytes
our @Traffic = (chat("m1"), chat("m1"), chat("m2"), chat($Evil));
our @TrafficCodes = (200, 200, 200, 404);

# a regex that holds when the body has each of these lines
sub lines (@) {
    my $re = join '', map { '(?=.*^' . quotemeta($_) . '$)' } @_;
    return qr/(?ms)\A$re/;
}

add_block_preprocessor(sub {
    my $block = shift;
    my ($n) = $block->name =~ /\bTEST (\d+):/;

    if (defined $block->http_config && $block->http_config =~ /ZONE/) {
        (my $h = $block->http_config) =~ s/\bZONE\b/status$n/g;
        $block->set_value(http_config => $h);
        $block->set_value(config => "# " . $block->name . "\n"
                                    . $block->config);
    }
});

# Perl checks of a block's last response, by test number
our %Checks;

add_response_body_check(sub {
    my ($block, $body, $req_idx, $repeated_req_idx, $dry_run) = @_;
    my ($n) = $block->name =~ /\bTEST (\d+):/;

    return unless defined $n && $Checks{$n};

    my $reqs = $block->pipelined_requests // $block->request;
    my $last = ref $reqs eq 'ARRAY' ? $#$reqs : 0;

    return unless $req_idx == $last;

    SKIP: {
        Test::More::skip($block->name . " - perl checks skipped due to "
                         . "$dry_run", 1) if $dry_run;
        $Checks{$n}->($block, $body // '');
    }
});


# Prometheus exposition format 0.0.4: every line a HELP, a TYPE or a
# sample of a declared family, label values escaped, histogram buckets
# cumulative and ending with +Inf = _count.

$Checks{2} = sub {
    my ($block, $body) = @_;
    my (%type, %help, @bad, %buckets, %count);
    my $label = qr/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"/;

    for my $line (split /\n/, $body, -1) {
        next if $line eq '';

        if ($line =~ /^# HELP (llm_[a-z_]+) \S.*$/) {
            push @bad, "HELP twice: $line" if $help{$1}++;
            next;
        }

        if ($line =~ /^# TYPE (llm_[a-z_]+) (counter|gauge|histogram)$/) {
            push @bad, "TYPE twice: $line" if $type{$1};
            push @bad, "TYPE before HELP: $line" unless $help{$1};
            $type{$1} = $2;
            next;
        }

        if ($line !~ /^(llm_[a-z_]+)(\{$label(?:,$label)*\})? (-?[0-9]+(?:\.[0-9]+)?)$/) {
            push @bad, "not a sample: $line";
            next;
        }

        my ($name, $labels, $value) = ($1, $2 // '', $3);
        my $family = $name;

        if (!$type{$family} && $name =~ /^(.*)_(bucket|sum|count)$/
            && ($type{$1} // '') eq 'histogram')
        {
            $family = $1;
        }

        if (!$type{$family}) {
            push @bad, "no TYPE for $name";
            next;
        }

        push @bad, "counter not ending in _total: $name"
            if $type{$family} eq 'counter' && $name !~ /_total$/;

        if ($name =~ /_bucket$/ && $type{$family} eq 'histogram') {
            (my $series = $labels) =~ s/,le="[^"]*"//;
            my ($le) = $labels =~ /le="([^"]*)"/;
            push @{ $buckets{"$family$series"} }, [$le, $value];
        }

        if ($name =~ /_count$/ && $type{$family} eq 'histogram') {
            $count{"$family$labels"} = $value;
        }
    }

    for my $series (sort keys %buckets) {
        my @b = @{ $buckets{$series} };
        my $prev = 0;
        my $prev_le = -1;

        for my $b (@b) {
            push @bad, "$series: bucket $b->[0] decreases" if $b->[1] < $prev;
            my $le = $b->[0] eq '+Inf' ? 9**9**9 : $b->[0];
            push @bad, "$series: le $b->[0] out of order" if $le <= $prev_le;
            ($prev, $prev_le) = ($b->[1], $le);
        }

        push @bad, "$series: last bucket is not +Inf" if $b[-1][0] ne '+Inf';
        push @bad, "$series: +Inf != _count"
            if ($count{$series} // -1) != $b[-1][1];
    }

    push @bad, "no histogram" unless %buckets == 4;

    Test::More::is(join("\n", @bad), '',
                   $block->name . " - valid exposition format");
};


$Checks{3} = sub {
    my ($block, $body) = @_;
    my $name = $block->name;
    my $j = eval { JSON::PP->new->decode($body) };

    Test::More::ok($j, "$name - JSON parses") or return;

    my $now = time;
    Test::More::ok(abs($j->{time} - $now) < 60, "$name - time is now");

    # providers in configuration order, with their circuit state

    my @p = map {
        my $p = $_;
        +{ map { $_ => $p->{$_} } qw(name state state_code attempts failures
                                     circuit_opened max_fails) }
    } @{ $j->{providers} };

    Test::More::is_deeply(\@p, [
        { name => 'a', state => 'closed', state_code => 0, attempts => 3,
          failures => 0, circuit_opened => 0, max_fails => 1 },
        { name => 'b', state => 'open', state_code => 1, attempts => 1,
          failures => 1, circuit_opened => 1, max_fails => 1 },
    ], "$name - providers");

    Test::More::ok($j->{providers}[0]{up} && !$j->{providers}[1]{up},
                   "$name - a is up, b is down");
    Test::More::ok($j->{providers}[1]{retry_in_ms} > 25000
                   && $j->{providers}[1]{retry_in_ms} <= 30000,
                   "$name - b is open for fail_timeout");

    my $lat = $j->{providers}[0]{latency};
    Test::More::is($lat->{count}, 3, "$name - a: 3 latencies");
    Test::More::is_deeply($lat->{le_ms}, [100, 250, 500, 1000, 2500, 5000,
                                          10000, 30000, 60000],
                          "$name - bucket bounds");
    Test::More::is(scalar @{ $lat->{counts} }, 10, "$name - 10 buckets");
    my $sum = 0;
    $sum += $_ for @{ $lat->{counts} };
    Test::More::is($sum, 3, "$name - buckets add up to the count");
    Test::More::is($j->{providers}[0]{ttft}{count}, 3, "$name - a: 3 ttft");
    Test::More::is($j->{providers}[1]{latency}{count}, 0,
                   "$name - b served nothing");
    Test::More::is($j->{providers}[1]{latency}{p50_ms}, undef,
                   "$name - no p50 without samples");

    Test::More::is_deeply($j->{requests}, [
        { route => '', provider => '', model => '', status => 404,
          requests => 1, prompt_tokens => 0, completion_tokens => 0,
          cached_tokens => 0, cost_usd => 0, cost_nano_usd => 0,
          usage_missing => 0 },
        { route => 'm1', provider => 'a', model => 'm1', status => 200,
          requests => 2, prompt_tokens => 40, completion_tokens => 10,
          cached_tokens => 0, cost_usd => 0.00008, cost_nano_usd => 80000,
          usage_missing => 0 },
        { route => 'm2', provider => 'a', model => 'm2', status => 200,
          requests => 1, prompt_tokens => 20, completion_tokens => 5,
          cached_tokens => 0, cost_usd => 0, cost_nano_usd => 0,
          usage_missing => 0 },
    ], "$name - requests");

    Test::More::is_deeply($j->{tenants}, [], "$name - no tenants");

    my %t = %{ $j->{totals} };
    Test::More::is_deeply([ @t{qw(requests prompt_tokens completion_tokens
                                  cost_nano_usd errors failovers
                                  budget_rejections usage_missing)} ],
                          [4, 60, 15, 80000, 1, 1, 0, 0], "$name - totals");

    my @b = @{ $j->{budgets} };
    Test::More::is_deeply([ map { [ @$_{qw(name key metric limit used
                                           reserved remaining rejected)} ] }
                            @b ], [
        ['team', 'red', 'cost', 5, 0.00008, 0, 4.99992, 0],
        ['team', 'red', 'requests', 100, 3, 0, 97, 0],
        ['team', 'red', 'tokens', 100000, 75, 0, 99925, 0],
    ], "$name - budgets");

    my @now = gmtime $now;
    my $day = $now - $now % 86400;
    my $hour = $now - $now % 3600;
    my $month = $day - ($now[3] - 1) * 86400;

    for my $b (@b) {
        my ($start, $len) = $b->{metric} eq 'tokens' ? ($day, 86400)
                          : $b->{metric} eq 'requests' ? ($hour, 3600)
                          : ($month, undef);

        Test::More::is($b->{window_start}, $start,
                       "$name - $b->{metric} window start");

        if (defined $len) {
            Test::More::is($b->{window_end}, $start + $len,
                           "$name - $b->{metric} window end");
        } else {
            my @e = gmtime $b->{window_end};
            Test::More::ok($e[3] == 1 && $e[2] == 0 && $e[1] == 0
                           && $b->{window_end} > $now
                           && $b->{window_end} - $start <= 31 * 86400,
                           "$name - cost window ends on the 1st, 00:00 UTC");
        }

        Test::More::is($b->{reset_in}, $b->{window_end} - $j->{time},
                       "$name - $b->{metric} reset_in");
    }

    Test::More::is_deeply([ @{ $j->{zone} }{qw(name size series evictions)} ],
                          ['status3', 1048576, 6, 0], "$name - zone");
    Test::More::ok($j->{zone}{free} > 0 && $j->{zone}{free} < 1048576,
                   "$name - zone free");
};


# headless Chromium: screenshot and DOM of the HTML page

sub find_chromium () {
    for my $c (qw(chromium chromium-browser)) {
        for my $dir (split /:/, $ENV{PATH} // '') {
            return "$dir/$c" if -x "$dir/$c";
        }
    }
    return undef;
}

# runs a command with a time limit; stdout to $out, stderr to $err
sub run_limited ($$$@) {
    my ($secs, $out, $err, @cmd) = @_;

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        setpgrp(0, 0);
        open STDOUT, '>', $out or exit 126;
        open STDERR, '>', $err or exit 126;
        exec @cmd or exit 127;
    }

    my $deadline = time + $secs;
    while (time < $deadline) {
        return $? if waitpid($pid, 1) == $pid;   # WNOHANG
        select undef, undef, undef, 0.1;
    }

    kill 'KILL', -$pid;
    waitpid($pid, 0);
    return -1;
}

$Checks{12} = sub {
    my ($block, $body) = @_;
    my $name = $block->name;

    my $chromium = find_chromium();

    if (!$chromium) {
        SKIP: {
            Test::More::skip("$name - chromium is not installed (Debian: "
                             . "apt-get install chromium; \"make test\" "
                             . "installs it): the page was not rendered", 5);
        }
        return;
    }

    # provider "groq" failed with fail_timeout=1s: let it turn half-open
    select undef, undef, undef, 1.2;

    my $root = server_root();
    my $png = "$root/status.png";
    my $dom = "$root/status-dom.html";
    my $log = "$root/logs/chromium.log";
    my $url = "http://127.0.0.1:" . server_port() . "/status.html";

    unlink $png;

    my @args = ('--headless', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--disable-background-networking',
                '--disable-component-update', '--disable-sync',
                '--no-first-run', '--hide-scrollbars',
                "--user-data-dir=$root/chromium-profile",
                '--window-size=1200,900');

    my $rc = run_limited(90, "/dev/null", $log, $chromium, @args,
                         "--screenshot=$png", $url);

    Test::More::is($rc, 0, "$name - chromium --screenshot exits 0")
        or Test::More::diag("see $log");

    my $size = -s $png // 0;
    Test::More::ok($size > 10 * 1024,
                   "$name - screenshot is a real page ($size bytes)");

    open my $fh, '<:raw', $png;
    my $magic = '';
    read $fh, $magic, 8 if $fh;
    Test::More::is($magic, "\x89PNG\r\n\x1a\n", "$name - screenshot is a PNG");

    Test::More::diag("HTML status page screenshot: $png");

    $rc = run_limited(90, $dom, "$log.dom", $chromium, @args, '--dump-dom',
                      $url);

    my $html = do { local $/; open my $d, '<', $dom; $d ? <$d> : '' };

    File::Path::remove_tree("$root/chromium-profile");

    Test::More::is($rc, 0, "$name - chromium --dump-dom exits 0");

    my @missing = grep { index($html, $_) < 0 } (
        '<b>openai</b>', '<b>deepseek</b>', '<b>groq</b>', '<b>mistral</b>',
        '<span class="pill down">down</span>',
        '<span class="pill half">half-open</span>',
        '<b>acme</b>', '<b>globex</b>',
        # an unrouted model is no label (no made-up names in the zone);
        # the client's script is nowhere, as checked below
    );

    push @missing, 'no script element' if $html =~ /<script/i;
    push @missing, 'a key' if $html =~ /sk-/;

    Test::More::is(join(', ', @missing), '',
                   "$name - rendered DOM has providers, states, tenants, "
                   . "escaped labels and no secret");
};

run_tests();

__DATA__

=== TEST 1: prometheus: exact values after known traffic
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
X-Team: red
--- request eval
[ @::Traffic, "GET /metrics" ]
--- error_code eval
[ @::TrafficCodes, 200 ]
--- response_headers eval
[ "", "", "", "", "Content-Type: text/plain; version=0.0.4" ]
--- response_body_like eval
[
    ('"object":"chat.completion"') x 3,
    '"code":"model_not_found"',
    main::lines(
        '# HELP llm_requests_total Requests by route, provider, model and status.',
        '# TYPE llm_requests_total counter',
        'llm_requests_total{route="",provider="",model="",status="404"} 1',
        'llm_requests_total{route="m1",provider="a",model="m1",status="200"} 2',
        'llm_requests_total{route="m2",provider="a",model="m2",status="200"} 1',
        '# TYPE llm_prompt_tokens_total counter',
        'llm_prompt_tokens_total{route="m1",provider="a",model="m1"} 40',
        'llm_prompt_tokens_total{route="m2",provider="a",model="m2"} 20',
        'llm_completion_tokens_total{route="m1",provider="a",model="m1"} 10',
        'llm_completion_tokens_total{route="m2",provider="a",model="m2"} 5',
        'llm_cached_tokens_total{route="m1",provider="a",model="m1"} 0',
        '# TYPE llm_cost_usd_total counter',
        'llm_cost_usd_total{route="m1",provider="a",model="m1"} 0.000080000',
        'llm_cost_usd_total{route="m2",provider="a",model="m2"} 0.000000000',
        'llm_usage_missing_total{route="m1",provider="a",model="m1"} 0',
        'llm_failovers_total 1',
        'llm_budget_rejections_total 0',
        'llm_provider_attempts_total{provider="a"} 3',
        'llm_provider_attempts_total{provider="b"} 1',
        'llm_provider_failures_total{provider="a"} 0',
        'llm_provider_failures_total{provider="b"} 1',
        '# TYPE llm_provider_circuit_state gauge',
        'llm_provider_circuit_state{provider="a"} 0',
        'llm_provider_circuit_state{provider="b"} 1',
        'llm_provider_circuit_opened_total{provider="b"} 1',
        '# TYPE llm_provider_latency_seconds histogram',
        'llm_provider_latency_seconds_bucket{provider="a",le="+Inf"} 3',
        'llm_provider_latency_seconds_count{provider="a"} 3',
        'llm_provider_latency_seconds_bucket{provider="b",le="+Inf"} 0',
        'llm_provider_latency_seconds_sum{provider="b"} 0.000',
        'llm_provider_ttft_seconds_count{provider="a"} 3',
        '# TYPE llm_budget_used gauge',
        'llm_budget_limit{budget="team",key="red",metric="tokens"} 100000',
        'llm_budget_limit{budget="team",key="red",metric="requests"} 100',
        'llm_budget_limit{budget="team",key="red",metric="cost"} 5.000000000',
        'llm_budget_used{budget="team",key="red",metric="tokens"} 75',
        'llm_budget_used{budget="team",key="red",metric="requests"} 3',
        'llm_budget_used{budget="team",key="red",metric="cost"} 0.000080000',
        'llm_budget_reserved{budget="team",key="red",metric="tokens"} 0',
        'llm_budget_remaining{budget="team",key="red",metric="tokens"} 99925',
        'llm_budget_remaining{budget="team",key="red",metric="cost"} 4.999920000',
        'llm_budget_rejected_requests_total{budget="team",key="red",metric="requests"} 0',
        'llm_zone_series 6',
        'llm_zone_evictions_total 0',
        'llm_zone_size_bytes 1048576',
    ),
]
--- no_error_log
[alert]
[crit]



=== TEST 2: prometheus: the whole page follows the exposition format (Perl check)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
X-Team: red
--- request eval
[ @::Traffic, "GET /metrics" ]
--- error_code eval
[ @::TrafficCodes, 200 ]
--- no_error_log
[alert]
[crit]



=== TEST 3: json: one object with providers, requests, tenants, budgets, zone (Perl check)
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
X-Team: red
--- request eval
[ @::Traffic, "GET /status.json" ]
--- error_code eval
[ @::TrafficCodes, 200 ]
--- response_headers eval
[ "", "", "", "", "Content-Type: application/json" ]
--- no_error_log
[alert]
[crit]



=== TEST 4: html: providers up and down, escaped labels, budgets, no secret
--- http_config eval: $::HttpConfig
--- config eval: $::Config
--- more_headers
Content-Type: application/json
X-Team: <red&blue>
--- request eval
[ @::Traffic, "GET /status.html" ]
--- error_code eval
[ @::TrafficCodes, 200 ]
--- response_headers eval
[ "", "", "", "", "Content-Type: text/html; charset=utf-8" ]
--- response_body_like eval
[
    ('"object":"chat.completion"') x 3,
    '"code":"model_not_found"',
    '(?s)\A(?=.*<title>LLM router status</title>)'
      . '(?=.*<tr><td><span class="pill up">up</span></td><td><b>a</b></td><td class="n">3</td><td class="n">0</td><td class="n">0\.0%</td>)'
      . '(?=.*<tr><td><span class="pill down">down</span></td><td><b>b</b></td><td class="n">1</td><td class="n">1</td><td class="n">100\.0%</td>.*<td class="muted">open, trial in )'
      . '(?=.*<td class="w"><span class="muted">&mdash;</span></td><td class="n">1</td><td class="n">1</td>)'
      . '(?=.*<td class="w">m1</td><td class="n">2</td><td class="n">0</td><td class="n">40</td><td class="n">10</td><td class="n">\$0\.000080</td>)'
      . '(?=.*<td><b>team</b></td><td class="w">&lt;red&amp;blue&gt;</td><td>tokens</td>)'
      . '(?=.*<td class="n">75</td><td class="n">0</td><td class="n">100,000</td><td class="n"><b>99,925</b></td>)'
      . '(?=.*</html>\n\z)',
]
--- response_body_unlike eval
[ ("sk-provider") x 4, '<b>"x|<red&|sk-' ]
--- no_error_log
[alert]
[crit]



=== TEST 5: half-open: fail_timeout over, a trial allowed
--- http_config
llm_zone ZONE 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream b host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/b/v1 key=sk-b max_fails=1 fail_timeout=2s;
llm_route m2 b a;
--- config
location /v1/ {
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location /mock/b/v1/ { llm_mock status=503; }
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
--- more_headers
Content-Type: application/json
--- request eval
[ main::chat("m2"), "GET /status.json", "GET /metrics" ]
--- wait: 1.1
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
    '"object":"chat.completion"',
    # 1.1 s later (up to 0.9 s more on a slow machine): still open, a
    # trial in less than 2 s
    '"name":"b","state":"open","state_code":1,"up":false,"retry_in_ms":(?:1\d{3}|[1-9]\d{0,2}),"fails":1,"max_fails":1,"attempts":1,"failures":1,"circuit_opened":1,',
    # 2.2 s later: fail_timeout is over
    main::lines(
        'llm_provider_circuit_state{provider="a"} 0',
        'llm_provider_circuit_state{provider="b"} 2',
        'llm_provider_circuit_opened_total{provider="b"} 1',
    ),
]



=== TEST 6: tenants, budget rejections, usage missing
--- http_config
llm_zone ZONE 1m;
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
llm_upstream c host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/c/v1 key=sk-c;
llm_route m1 a;
llm_route m3 c;
llm_price a:m1 input=1.5 output=2;
--- config
location /v1/ {
    llm_client_keys ../html/keys.txt;
    llm_budget key=$llm_tenant requests=2/d name=per_tenant;
    include ../../../conf/llm_params;
}
location /mock/a/v1/ { llm_mock; }
location /mock/c/v1/ { llm_mock no_usage; }
location = /metrics { llm_status; }
--- user_files
>>> keys.txt
sk-client-alpha acme&co"1"
sk-client-beta beta
--- pipelined_requests eval
[ main::chat("m1"), main::chat("m1"), main::chat("m1"), main::chat("m3"),
  "GET /metrics" ]
--- more_headers eval
[ ("Content-Type: application/json\nAuthorization: Bearer sk-client-alpha") x 3,
  "Content-Type: application/json\nAuthorization: Bearer sk-client-beta",
  "" ]
--- error_code eval
[200, 200, 429, 200, 200]
--- response_body_like eval
[
    ('"object":"chat.completion"') x 2,
    '"code":"budget_exceeded"',
    '"object":"chat.completion"',
    main::lines(
        'llm_requests_total{route="m1",provider="a",model="m1",status="200"} 2',
        'llm_requests_total{route="m1",provider="",model="m1",status="429"} 1',
        'llm_requests_total{route="m3",provider="c",model="m3",status="200"} 1',
        'llm_usage_missing_total{route="m3",provider="c",model="m3"} 1',
        'llm_usage_missing_total{route="m1",provider="a",model="m1"} 0',
        'llm_budget_rejections_total 1',
        'llm_budget_rejected_requests_total{budget="per_tenant",key="acme&co\\"1\\"",metric="requests"} 1',
        'llm_budget_rejected_requests_total{budget="per_tenant",key="beta",metric="requests"} 0',
        'llm_budget_used{budget="per_tenant",key="acme&co\\"1\\"",metric="requests"} 2',
        'llm_budget_remaining{budget="per_tenant",key="acme&co\\"1\\"",metric="requests"} 0',
        'llm_budget_used{budget="per_tenant",key="beta",metric="requests"} 1',
        'llm_budget_limit{budget="per_tenant",key="beta",metric="requests"} 2',
        '# TYPE llm_tenant_requests_total counter',
        'llm_tenant_requests_total{tenant="acme&co\\"1\\"",model="m1"} 3',
        'llm_tenant_requests_total{tenant="beta",model="m3"} 1',
        'llm_tenant_prompt_tokens_total{tenant="acme&co\\"1\\"",model="m1"} 40',
        'llm_tenant_completion_tokens_total{tenant="acme&co\\"1\\"",model="m1"} 10',
        'llm_tenant_cost_usd_total{tenant="acme&co\\"1\\"",model="m1"} 0.000080000',
        'llm_tenant_prompt_tokens_total{tenant="beta",model="m3"} 0',
    ),
]
--- response_body_unlike eval
[ ("sk-client") x 5 ]
--- no_error_log
[alert]
[crit]



=== TEST 7: GET and HEAD only
--- http_config
llm_upstream a host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/a/v1 key=sk-a;
--- config
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
location = /status.html { llm_status html; }
--- request eval
[ "POST /metrics\n{}", "PUT /status.json\n{}", "DELETE /status.html",
  "HEAD /metrics", "HEAD /status.json", "HEAD /status.html" ]
--- error_code eval
[405, 405, 405, 200, 200, 200]
--- response_headers eval
[ "", "", "",
  "Content-Type: text/plain; version=0.0.4",
  "Content-Type: application/json",
  "Content-Type: text/html; charset=utf-8" ]
--- response_body_like eval
[ ("405 Not Allowed") x 3, ('\A\z') x 3 ]



=== TEST 8: no provider, no zone: empty sets
--- config
location = /metrics { llm_status; }
location = /status.json { llm_status json; }
location = /status.html { llm_status html; }
--- request eval
[ "GET /status.json", "GET /metrics", "GET /status.html" ]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[
    '\A\{"time":\d+,"zone":\{\},"totals":\{"requests":0,"prompt_tokens":0,"completion_tokens":0,"cached_tokens":0,"cost_usd":0,"cost_nano_usd":0,"usage_missing":0,"errors":0,"failovers":0,"budget_rejections":0\},"providers":\[\],"requests":\[\],"tenants":\[\],"budgets":\[\],"health":\[\],"health_servers":\[\],"health_keys":\[\],"fleet":\[\]\}\n\z',
    '\A# HELP llm_requests_total [^\n]+\n# TYPE llm_requests_total counter\n# HELP llm_prompt_tokens_total ',
    '<p class="sub">0 providers: .*No llm_upstream is configured\..*No budget has been used yet.*No tenant traffic yet.*No requests yet\..*No llm_zone',
]
--- response_body_unlike eval
[ '\[\{', '(?m)^llm_', "<tr><td>" ]
--- no_error_log
[error]



=== TEST 9: default format is prometheus, "prometheus" by name too
--- config
location = /a { llm_status; }
location = /b { llm_status prometheus; }
--- request eval
[ "GET /a", "GET /b" ]
--- response_headers eval
[ "Content-Type: text/plain; version=0.0.4",
  "Content-Type: text/plain; version=0.0.4" ]
--- error_code eval
[200, 200]



=== TEST 10: an unknown format is refused at load (nginx -t)
--- config
location = /metrics { llm_status xml; }
--- must_die
--- error_log eval
qr{\[emerg\] .*invalid format "xml" in "llm_status" directive, it must be "prometheus", "json" or "html" in \S+/nginx\.conf:39$}



=== TEST 11: llm_status twice in one location
--- config
location = /metrics {
    llm_status;
    llm_status json;
}
--- must_die
--- error_log eval
qr{\[emerg\] .*"llm_status" directive is duplicate in \S+/nginx\.conf:41$}



=== TEST 12: html in headless Chromium: screenshot and rendered DOM (Perl check)
--- http_config
llm_zone ZONE 1m;
llm_upstream openai   host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/openai/v1 key=sk-openai-secret;
llm_upstream deepseek host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/deepseek/v1 key=sk-deepseek-secret max_fails=1 fail_timeout=60s;
llm_upstream groq     host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/groq/v1 key=sk-groq-secret max_fails=1 fail_timeout=1s;
llm_upstream mistral  host=127.0.0.1 port=$TEST_NGINX_SERVER_PORT tls=off path=/mock/mistral/v1 key=sk-mistral-secret;
llm_route gpt-4o openai;
llm_route deepseek-chat deepseek openai;
llm_route llama-3 groq mistral;
llm_route mistral-large mistral;
llm_price openai:gpt-4o input=2.5 output=10;
llm_price openai:deepseek-chat input=0.27 output=1.1;
llm_price mistral:llama-3 input=0.2 output=0.2;
llm_price mistral:mistral-large input=2 output=6;
--- config
location /v1/ {
    llm_client_keys ../html/keys.txt;
    llm_budget key=$llm_tenant tokens=250/d cost=0.01/mo name=tenant;
    include ../../../conf/llm_params;
}
location /mock/openai/v1/ { llm_mock; }
location /mock/deepseek/v1/ { llm_mock status=503; }
location /mock/groq/v1/ { llm_mock status=429; }
location /mock/mistral/v1/ { llm_mock; }
location = /status.html { llm_status html; }
--- user_files
>>> keys.txt
sk-acme-0001 acme
sk-globex-0002 globex
--- pipelined_requests eval
my $b = sub {
    "POST /v1/chat/completions\n"
    . qq{{"model":"$_[0]","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}}
};
[ $b->("gpt-4o"), $b->("deepseek-chat"), $b->("llama-3"),
  $b->('<script>alert(\"pwned\")</script>'),
  (map { $b->($_) } ("gpt-4o") x 3, ("mistral-large") x 6),
  "GET /status.html" ]
--- more_headers eval
[ ("Content-Type: application/json\nAuthorization: Bearer sk-acme-0001") x 4,
  ("Content-Type: application/json\nAuthorization: Bearer sk-globex-0002") x 9,
  "" ]
--- error_code eval
[ 200, 200, 200, 404, (200) x 3, (200) x 4, (429) x 2, 200 ]
--- response_body_like eval
[ ('"object":"chat.completion"') x 3, '"code":"model_not_found"',
  ('"object":"chat.completion"') x 7, ('"code":"budget_exceeded"') x 2,
  '<b>openai</b>' ]
--- no_error_log
[alert]
[crit]
