package Test::Nginx::Util;

# Server-side half of our Test::Nginx re-implementation: global settings,
# nginx.conf generation, starting/reloading/stopping nginx, log access and
# the per-block driver (run_tests/run_test).  The client side (requests and
# response checks) lives in Test::Nginx::Socket, which plugs itself in via
# $RunTestHelper, $CheckErrorLog and $CheckShutdownErrorLog.
#
# This is an independent implementation of the documented behaviour of the
# CPAN/GitHub module openresty/test-nginx; test files are meant to run
# unchanged under both.  See Test::Nginx::Socket for the list of supported
# sections and environment variables.

use strict;
use warnings;

our $VERSION = '0.33';

use base 'Exporter';

use File::Find ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(:sys_wait_h SIGQUIT SIGKILL SIGTERM SIGHUP SIGUSR1);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);
use Carp qw(croak);
use Test::More ();

# ---------------------------------------------------------------------------
# Settings (environment first, then the exported setter functions)
# ---------------------------------------------------------------------------

our $Verbose          = $ENV{TEST_NGINX_VERBOSE};
our $NginxBinary      = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $LoadModules      = $ENV{TEST_NGINX_LOAD_MODULES};
our $UseHup           = $ENV{TEST_NGINX_USE_HUP};
our $UseHttp2         = $ENV{TEST_NGINX_USE_HTTP2};
our $UseValgrind      = $ENV{TEST_NGINX_USE_VALGRIND};
our $ValgrindExitOnFirstErr = $ENV{TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR};
our $NoShuffle        = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoNginxManager   = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $Timeout          = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $EventType        = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput   = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $ReusePort        = $ENV{TEST_NGINX_REUSE_PORT};
our $WorkerUser       = $ENV{TEST_NGINX_WORKER_USER};
our $Randomize        = $ENV{TEST_NGINX_RANDOMIZE};
our $TestNginxSleep   = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $ForceRestartOnTest = defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
                          ? $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} : 1;

our $ServerAddr           = '127.0.0.1';
our $ServerName           = 'localhost';
our $RepeatEach           = 1;
our $Workers              = 1;
our $WorkerConnections    = 64;
our $LogLevel             = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $ServerPort           = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                            || 1984;
our $ServerPortForClient  = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $NoRootLocation       = 0;
our $NoLongString;
our $ConfigPreamble       = '';
our $FilterHttpConfig;

# Hooks installed by Test::Nginx::Socket.
our $RunTestHelper;
our $CheckErrorLog;
our $CheckShutdownErrorLog;

our (@BlockPreprocessors, @CleanupHandlers, @TestCleanupHandlers, @EnvToNginx);

# Run-time state.
our $NginxVersion;          # canonical, e.g. 1.022001
our $NginxRawVersion;       # e.g. 1.22.1
our $OpenSSLVersion;
our $PrevConfig;
our $PrevBlock;
our $ErrLogFilePos = 0;
our $AccLogFilePos = 0;
our $RandPorts = {};
our $ConfigVersion = '';
our $ChildPid;              # nginx running in the foreground (valgrind mode)
our $TcpServerPid;
our $InSubprocess;
our $FirstTime = 1;
our $StartupStderr = '';    # what nginx printed on stderr at its last start

if ($UseValgrind && $UseHup) {
    warn "WARNING: TEST_NGINX_USE_VALGRIND and TEST_NGINX_USE_HUP are both "
         . "set; the former wins.\n";
    undef $UseHup;
}

sub gen_rand_port (;$$);

if ($Randomize) {
    $ServerPort = gen_rand_port(1000)
        or die "Cannot find an available listening port number.\n";
    $ServerPortForClient = $ServerPort;
}

our $ServRoot = $Randomize
    ? File::Spec->rel2abs("t/servroot_$ServerPort")
    : File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = File::Spec->catfile($ServRoot, 'logs');
our $ErrLogFile = File::Spec->catfile($LogDir, 'error.log');
our $AccLogFile = File::Spec->catfile($LogDir, 'access.log');
our $HtmlDir    = File::Spec->catfile($ServRoot, 'html');
our $ConfDir    = File::Spec->catfile($ServRoot, 'conf');
our $ConfFile   = File::Spec->catfile($ConfDir, 'nginx.conf');
our $PidFile    = File::Spec->catfile($LogDir, 'nginx.pid');
our $CacheDir   = File::Spec->catfile($ServRoot, 'cache');

our @EXPORT = qw(
    expand_env_in_text use_http2 env_to_nginx is_str check_accum_error_log
    is_running $NoLongString no_long_string $ServerAddr server_addr
    $ServerName server_name parse_time verbose sleep_time bail_out
    add_cleanup_handler add_test_cleanup_handler access_log_data
    error_log_data setup_server_root run_customer_init_script
    write_config_file get_canon_version get_nginx_version trim
    show_all_chars parse_headers run_tests run_test get_pid_from_pidfile
    $ServerPortForClient $ServerPort $NginxVersion $PidFile $ServRoot
    $ConfFile $RunTestHelper $CheckErrorLog $CheckShutdownErrorLog
    $FilterHttpConfig $NoNginxManager $RepeatEach $UseHup $UseValgrind
    add_block_preprocessor timeout worker_connections workers master_on
    master_off config_preamble repeat_each master_process_enabled
    log_level no_shuffle no_root_location html_dir server_root
    server_port server_port_for_client no_nginx_manager use_hup
);

# ---------------------------------------------------------------------------
# Exported setters/getters
# ---------------------------------------------------------------------------

sub repeat_each (@) {
    $RepeatEach = shift if @_;
    return $RepeatEach;
}

sub workers (@) {
    return $Workers unless @_;
    $Workers = shift;
}

sub worker_connections (@) {
    return $WorkerConnections unless @_;
    $WorkerConnections = shift;
}

sub log_level (@) {
    return $LogLevel unless @_;
    $LogLevel = shift;
}

sub master_on ()  { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }

sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

sub no_shuffle ()            { $NoShuffle = 1 }
sub no_root_location ()      { $NoRootLocation = 1 }
sub no_long_string ()        { $NoLongString = 1 }
sub no_nginx_manager ()      { $NoNginxManager = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($)      { $ConfigPreamble = shift }
sub use_hup ()               { $UseHup = 1 unless $UseValgrind }
sub html_dir ()              { $HtmlDir }
sub server_root ()           { $ServRoot }
sub sleep_time ()            { $TestNginxSleep }
sub verbose ()               { $Verbose }

sub timeout (@) {
    return $Timeout unless @_;
    $Timeout = shift;
}

sub server_port (@) {
    return $ServerPort unless @_;
    $ServerPort = shift;
}

sub server_port_for_client (@) {
    return $ServerPortForClient unless @_;
    $ServerPortForClient = shift;
}

sub server_addr (@) {
    return $ServerAddr unless @_;
    $ServerAddr = shift;
}

sub server_name (@) {
    return $ServerName unless @_;
    $ServerName = shift;
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" unless @_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub add_block_preprocessor (&)  { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($)      { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

# is() for strings, like() when the expected value is a qr//.
sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    return Test::More::is($got, $expected, $desc);
}

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

sub trim ($) {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    return $s;
}

# "50ms" -> 0.05, "2s" -> 2, "1.5" -> 1.5
sub parse_time ($) {
    my $t = shift;
    return undef unless defined $t;
    $t =~ s/^\s+|\s+$//g;
    if ($t =~ /^([\d.]+)ms$/) {
        return $1 / 1000;
    }
    $t =~ s/^([\d.]+)s$/$1/;
    return $t;
}

# Parses a --- response_headers style section into an ordered list of
# [name, value] pairs; "!Name" (or a line without a colon) yields an undef
# value meaning "header must be absent".  In scalar context a hash ref
# is returned (the shape the original module exposes).
sub parse_headers ($) {
    my $text = shift;
    my (@pairs, %seen);
    for my $line (split /\n/, $text // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        my ($key, $val);
        if ($line =~ s/^!\s*//) {
            $key = $line;
        } else {
            ($key, $val) = split /\s*:\s*/, $line, 2;
        }
        if (exists $seen{$key}) {
            $pairs[$seen{$key}][1] = $val;     # later lines override
            next;
        }
        $seen{$key} = @pairs;
        push @pairs, [$key, $val];
    }
    return @pairs if wantarray;
    return { map { @$_ } @pairs };
}

sub get_canon_version (@) {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub _shell_quote {
    my $s = shift;
    return $s if $s =~ m{^[-\w./:=@%+,]+$};
    $s =~ s/'/'\\''/g;
    return "'$s'";
}

sub _nginx_V_output {
    my $cmd = _shell_quote($NginxBinary) . ' -V 2>&1';
    my $out = `$cmd`;
    return ($out, $?);
}

sub get_nginx_version () {
    return $NginxVersion if defined $NginxVersion;
    my ($out, $rc) = _nginx_V_output();
    if (!defined $out || $rc != 0) {
        bail_out("Failed to get the version of the nginx binary "
                 . "\"$NginxBinary\": " . ($out // ''));
    }
    if ($out =~ /built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?/) {
        $OpenSSLVersion = get_canon_version($1, $2, $3)
                          . (defined $4 ? sprintf('%03d', ord($4) - ord('a')) : '');
    }
    if ($out =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}s
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)}s)
    {
        $NginxRawVersion = "$1.$2.$3";
        return $NginxVersion = get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

sub is_running ($) {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    # A zombie (e.g. a daemon whose reaper is slow) is as good as dead.
    if (open my $in, '<', "/proc/$pid/stat") {
        my $stat = <$in> // '';
        close $in;
        return 0 if $stat =~ /^\d+ \(.*\) Z /s;
    }
    return 1;
}

# Guard against killing an unrelated process that reused a stale pid.
sub _looks_like_nginx ($) {
    my $pid = shift;
    open my $in, '<', "/proc/$pid/cmdline" or return 1;   # no /proc: trust it
    my $cmdline = do { local $/; <$in> } // '';
    close $in;
    return $cmdline =~ /nginx|valgrind|memcheck/ ? 1 : 0;
}

sub get_pid_from_pidfile ($) {
    my ($name) = @_;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile for reading: $!");
    my $pid = do { local $/; <$in> } // '';
    close $in;
    $pid =~ s/\s+//g;
    return $pid;
}

sub _read_pid () {
    return undef unless -f $PidFile;
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> } // '';
    close $in;
    $pid =~ s/\s+//g;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

sub gen_rand_port (;$$) {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used ||= {};
    for (1 .. $tries) {
        my $port = int(rand 63547) + 1988;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(
            LocalAddr => $ServerAddr,
            LocalPort => $port,
            Proto     => 'tcp',
            Listen    => 5,
            ReuseAddr => 1,
        );
        if ($sock) {
            close $sock;
            return $port;
        }
    }
    return undef;
}

# Replace $TEST_NGINX_FOO by $ENV{TEST_NGINX_FOO}; $TEST_NGINX_RAND_PORT_N
# expands to a free port that stays the same for the whole block.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef unless defined $text;
    $rand_ports ||= $RandPorts;

    my $subst = sub {
        my $var = shift;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);
                my $port = gen_rand_port(1000, \%used);
                bail_out("$name - Cannot find an available listening port "
                         . "number for $var.\n") unless defined $port;
                $rand_ports->{$var} = $port;
            }
            return $rand_ports->{$var};
        }
        bail_out("$name - No environment $var defined.\n")
            unless defined $ENV{$var};
        return $ENV{$var};
    };

    $text =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/$subst->($1)/ge;
    return $text;
}

# Decides whether a block is sent over HTTP/2 (via curl).  "--- http2"
# forces it; TEST_NGINX_USE_HTTP2 enables it for every block that can
# reasonably be sent over HTTP/2.
sub use_http2 ($) {
    my $block = shift;

    my $cached = $block->{_tn_use_http2};
    return $cached->[0] if $cached;

    my $decide = sub {
        return 0 if defined $block->no_http2;

        if (defined $block->http2) {
            bail_out("cannot use --- http2 with --- raw_request")
                if defined $block->raw_request;
            bail_out("cannot use --- http2 with --- pipelined_requests")
                if defined $block->pipelined_requests;
            return 1;
        }

        return 0 unless $UseHttp2;
        return 0 if defined $block->raw_request
                    || defined $block->pipelined_requests
                    || !defined $block->request;
        return 0 if !ref $block->request && $block->request =~ m{HTTP/1\.0};

        # Things that cannot work when the server speaks HTTP/2 only.
        my $pat = qr{proxy_pass\s.*:\$(?:server_port|TEST_NGINX_SERVER_PORT)
                     | ngx\.req\.raw_header | ngx\.req\.socket
                     | lua_check_client_abort | ngx\.req\.read_body}x;
        for my $sec (qw(config http_config user_files)) {
            my $v = $block->$sec;
            return 0 if defined $v && !ref $v && $v =~ $pat;
        }
        return 1;
    };

    my $res = $decide->() ? 1 : 0;
    $block->{_tn_use_http2} = [$res];
    return $res;
}

# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

sub _read_lines_from ($$) {
    my ($file, $pos_ref) = @_;
    open my $in, '<', $file or return undef;
    if (!$CheckAccumErrLog && $$pos_ref > 0) {
        # the log may have been recreated since we last looked at it
        $$pos_ref = 0 if -s $in < $$pos_ref;
        seek $in, $$pos_ref, 0;
    }
    my @lines = <$in>;
    $$pos_ref = tell($in) unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

# Lines appended to error.log since the last call (for the current block).
sub error_log_data () {
    # give nginx a moment: the log phase runs after the response is sent
    sleep $TestNginxSleep * 3;
    return _read_lines_from($ErrLogFile, \$ErrLogFilePos) || [];
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    return _read_lines_from($AccLogFile, \$AccLogFilePos) || [];
}

# ---------------------------------------------------------------------------
# Server root and nginx.conf
# ---------------------------------------------------------------------------

sub setup_server_root ($) {
    my $first_time = shift;

    if (-d $ServRoot) {
        # Only ever remove what we create ourselves, so that a misused
        # TEST_NGINX_SERVROOT cannot wipe unrelated data.
        remove_tree($ConfDir, glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"));

        if ($UseHup && !$first_time) {
            # nginx keeps running: keep its pid file and sockets, but start
            # with fresh logs and html files for the new block.
            for my $dir ($LogDir, $HtmlDir, $CacheDir) {
                next unless -d $dir;
                File::Find::find({ no_chdir => 1, wanted => sub {
                    return if -d $_;
                    return if /(?:\bnginx\.pid|\.sock|\.crt|\.key)$/;
                    unlink $_ or warn "Failed to remove $_: $!\n";
                } }, $dir);
            }
        } else {
            remove_tree($CacheDir, $HtmlDir, $LogDir);
        }
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        make_path($dir) or bail_out("Failed to do mkdir $dir: $!\n");
    }

    my $index = "$HtmlDir/index.html";
    open my $out, '>', $index or bail_out("Can't open $index for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub run_customer_init_script ($) {
    my $block = shift;
    my $code = $block->post_setup_server_root;
    return unless $code;
    eval $code;
    bail_out($block->name . " - post_setup_server_root failed: $@") if $@;
}

# --- user_files: either ">>> name [mtime]\ncontent..." text or an array of
# [name, content, mtime] triples.  Relative names go under html/.
sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return unless $files;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, '', $2];
                next;
            }
            bail_out("$name - --- user_files must start with \">>> file\"")
                unless @list;
            $list[-1][1] .= $line;
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type for --- user_files: ", ref $files);
    }

    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        $body //= '';
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{^(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            local $ENV{TZ} = 'GMT';
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - failed to set mtime $date on $path");
        }
    }
}

# Line layout matters: nginx reports config errors as "nginx.conf:LINE" and
# tests match on those numbers, so the generated file keeps exactly the same
# line structure as the original scaffold (the block's --- config starts on
# line 39 when there is no main_config/http_config/env_to_nginx).
sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    local $MasterProcessEnabled = $MasterProcessEnabled;
    $MasterProcessEnabled = 'on' if $UseHup;   # reloads need a master

    my $daemon = _block_daemon_mode($block);

    my $http_config = expand_env_in_text($block->http_config, $name, $rand_ports) // '';
    $http_config = $FilterHttpConfig->($http_config) if $FilterHttpConfig;

    my $postpone = $PostponeOutput;
    undef $postpone if $http_config =~ /\bpostpone_output\b/;
    my $extra_http_config = '';
    if (defined $postpone) {
        bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $postpone\n")
            unless $postpone =~ /^\d+$/;
        $extra_http_config = "\n    postpone_output $postpone;\n";
    }

    my $main_config = $block->main_config // '';
    if ($LoadModules) {
        # kept on the main_config line so that line numbers do not move
        my @mods = map { "load_module $_;" } grep { length } split /\s+/, $LoadModules;
        $main_config = join ' ', @mods, $main_config if @mods;
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    my $post_main_config =
        expand_env_in_text($block->post_main_config, $name, $rand_ports) // '';

    my $err_log = expand_env_in_text($block->error_log_file || $ErrLogFile,
                                     $name, $rand_ports);
    my $server_name = $block->server_name // $ServerName;
    (my $quoted_server_name = $server_name) =~ s/(['\\])/\\$1/g;

    my ($listen_opts, $http2_directive) = ('', '');
    if (use_http2($block)) {
        # "http2 on" exists since nginx 1.25.1; older ones use "listen ... http2"
        if (get_nginx_version() >= 1.025001) {
            $http2_directive = 'http2 on;';
        } else {
            $listen_opts .= ' http2';
        }
    }
    $listen_opts .= ' reuseport' if $ReusePort;

    my ($nginx_V) = _nginx_V_output();
    my @temp_paths;
    push @temp_paths, "client_body_temp_path $ServRoot/client_body_temp;"
        unless $http_config =~ /\bclient_body_temp_path\b/;
    push @temp_paths, "proxy_temp_path $ServRoot/proxy_temp;"
        unless $http_config =~ /\bproxy_temp_path\b/;
    for my $m (qw(fastcgi scgi uwsgi)) {
        push @temp_paths, "${m}_temp_path $ServRoot/${m}_temp;"
            unless ($nginx_V // '') =~ /--without-http_${m}_module/;
    }
    my $temp_paths = join ' ', @temp_paths;

    my $env_lines = join '', map {
        my $v = $_;
        $v = "'$v'" if $v =~ /\s/;
        "env $v;\n";
    } @EnvToNginx;

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    # In HUP mode a second virtual server reports which config generation
    # is live, so that we know when the reload has completed.
    my $version_server = !$UseHup ? '' : <<"_EOC_";
    server {
        listen          $ServerPort$listen_opts; $http2_directive
        server_name     'Test-Nginx';

        location = /ver {
            return 200 '$ConfigVersion';
        }
    }
_EOC_

    my $events_use = $EventType ? "    use $EventType;\n" : '';

    my $user = '';
    if (defined $WorkerUser) {
        bail_out("Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n")
            if $WorkerUser !~ /^\w[-\w]+(?:\s+\w[-\w]+)?$/;
        $user = "user $WorkerUser;\n";
    } elsif ($> == 0) {
        $user = "user root;\n";
    }

    $config //= '';

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");

    print $out <<"_EOC_";
worker_processes  $Workers;
daemon $daemon;
master_process $MasterProcessEnabled;
error_log $err_log $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
${env_lines}#env LUA_PATH;
#env LUA_CPATH;

$main_config

http {
    access_log $AccLogFile; $temp_paths
    #access_log off;

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort$listen_opts;$http2_directive
        # (generated by t/lib/Test/Nginx/Util.pm)
        server_name     '$quoted_server_name';

        client_max_body_size 30M;
        #client_body_buffer_size 4k;

        # preamble config begins
$ConfigPreamble
        # preamble config ends

        # test block config begins
$config
        # test block config ends

$root_location    }
$version_server$extra_http_config}

$post_main_config

#timer_resolution 100ms;

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
$events_use}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_

    close $out or bail_out("Failed to write $ConfFile: $!");
}

# ---------------------------------------------------------------------------
# Process management
# ---------------------------------------------------------------------------

sub _block_uses_valgrind ($) {
    my $block = shift;
    return $UseValgrind && !defined $block->must_die;
}

# nginx runs in the foreground (as our child) only under valgrind.
sub _block_daemon_mode ($) {
    my $block = shift;
    return _block_uses_valgrind($block) ? 'off' : 'on';
}

sub _valgrind_cmd () {
    my @cmd = ('valgrind', '-q');
    my $custom = $UseValgrind !~ /^\d+$/;
    if ($custom) {
        push @cmd, split ' ', $UseValgrind;
    } else {
        push @cmd, qw(--tool=memcheck --leak-check=full --show-possibly-lost=no
                      --num-callers=30 --gen-suppressions=all);
    }
    if ($ValgrindExitOnFirstErr) {
        push @cmd, '--exit-on-first-error=yes', '--error-exitcode=1';
    }
    for my $supp ('valgrind.suppress', 't/valgrind.suppress') {
        push @cmd, '--suppressions=' . File::Spec->rel2abs($supp) if -f $supp;
    }
    if (!grep { /^--log-(?:file|fd|socket)=/ } @cmd) {
        push @cmd, "--log-file=$LogDir/valgrind.%p.log";
    }
    return @cmd;
}

sub _nginx_cmd ($) {
    my $block = shift;
    my @cmd = ($NginxBinary);
    # -e (startup error log) exists since nginx 1.19.5
    push @cmd, '-e', $ErrLogFile if get_nginx_version() >= 1.019005;
    push @cmd, '-p', "$ServRoot/", '-c', $ConfFile;
    unshift @cmd, _valgrind_cmd() if _block_uses_valgrind($block);
    return @cmd;
}

# fork+exec with stdout to /dev/null and stderr to $errfh.
sub _spawn ($$$) {
    my ($cmd, $errfh, $own_pgrp) = @_;

    my $ld_preload = $ENV{LD_PRELOAD};
    if (defined $ENV{TEST_NGINX_LD_PRELOAD}) {
        $ld_preload = join ' ', grep { defined && length }
                      $ENV{TEST_NGINX_LD_PRELOAD}, $ld_preload;
    }

    my $pid = fork;
    bail_out("fork() failed: $!") unless defined $pid;
    return $pid if $pid;

    # child
    $InSubprocess = 1;
    setpgrp(0, 0) if $own_pgrp;
    $ENV{LD_PRELOAD} = $ld_preload if defined $ld_preload;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    open STDERR, '>&', $errfh if $errfh;
    { no warnings 'exec'; exec { $cmd->[0] } @$cmd; }
    print STDERR "failed to execute $cmd->[0]: $!\n";
    POSIX::_exit(127);
}

# Wait for our child $pid to exit, at most $timeout seconds.
# Returns the wait status, or undef on timeout.
sub _wait_child ($$) {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    while (1) {
        my $r = waitpid($pid, WNOHANG);
        return $? if $r == $pid;
        return -1 if $r == -1;
        return undef if time > $deadline;
        sleep 0.01;
    }
}

# Stops the process $pid: QUIT (TERM with TEST_NGINX_FAST_SHUTDOWN), wait up
# to $wait seconds (default: timeout()), then KILL (its whole process group
# if it leads one).
sub kill_process ($$$) {
    my ($pid, $wait, $name) = @_;
    return unless $pid;
    $wait ||= timeout();

    my $sig = $ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT;
    warn "sending signal $sig to $pid\n" if $Verbose;
    kill $sig, $pid;

    my $deadline = time + $wait;
    while (is_running($pid) && time < $deadline) {
        waitpid($pid, WNOHANG);
        sleep 0.02;
    }
    waitpid($pid, WNOHANG);
    return unless is_running($pid);

    warn "$name - timeout when waiting for the process $pid to exit; killing it\n";
    my $pgrp = getpgrp($pid);
    kill SIGKILL, (defined $pgrp && $pgrp == $pid) ? -$pid : $pid;
    $deadline = time + 5;
    while (is_running($pid) && time < $deadline) {
        waitpid($pid, WNOHANG);
        sleep 0.02;
    }
}

# Stop whatever nginx we started (found via our own pid file / child pid).
sub stop_nginx ($;$) {
    my ($name, $wait) = @_;
    my $pid = _read_pid();
    if (defined $pid && !_looks_like_nginx($pid)) {
        warn "WARNING: $name - stale pid file $PidFile (pid $pid is not nginx)\n";
        undef $pid;
    }
    $pid //= $ChildPid;

    if ($pid && is_running($pid)) {
        kill_process($pid, $wait, $name);
    }

    if (defined $ChildPid) {
        if (is_running($ChildPid)) {
            kill_process($ChildPid, $wait, $name);
        }
        waitpid($ChildPid, WNOHANG);
        undef $ChildPid;
    }

    unlink $PidFile if -f $PidFile;
}

sub _slurp ($) {
    my $file = shift;
    open my $in, '<', $file or return '';
    local $/;
    my $data = <$in>;
    close $in;
    return $data // '';
}

sub _missing_directive () {
    for my $line (split /\n/, _slurp($ErrLogFile) . "\n" . $StartupStderr) {
        return $1 if $line =~ /\[emerg\] \S+?: unknown directive "([^"]+)"/;
    }
    return undef;
}

# Starts nginx for $block.  Returns the wait status of the nginx command in
# daemon mode (0 == started) or, in foreground (valgrind) mode, 0 once the
# pid file appeared, or the exit status if nginx died during startup.
# nginx's stderr is collected in $StartupStderr.
sub start_nginx ($) {
    my $block = shift;
    my $name = $block->name;
    my @cmd = _nginx_cmd($block);
    warn "starting: @cmd\n" if $Verbose;

    my $errfh = File::Temp->new(TEMPLATE => 'tn-stderr-XXXXXX', TMPDIR => 1);
    my $status;

    if (_block_daemon_mode($block) eq 'off') {
        # foreground: nginx (possibly under valgrind) is our child
        my $pid = _spawn(\@cmd, $errfh, 1);
        $ChildPid = $pid;
        my $limit = _block_uses_valgrind($block) ? 120 : 30;
        my $deadline = time + $limit;
        while (1) {
            my $r = waitpid($pid, WNOHANG);
            if ($r == $pid) {
                $status = $? || 1 << 8;
                undef $ChildPid;
                last;
            }
            my $p = _read_pid();
            if (defined $p && $p == $pid) {
                $status = 0;
                last;
            }
            if (time > $deadline) {
                warn "$name - nginx did not write its pid file within "
                     . "$limit sec\n";
                $status = 0;
                last;
            }
            sleep 0.05;
        }
    } else {
        my $pid = _spawn(\@cmd, $errfh, 0);
        $status = _wait_child($pid, 60);
        if (!defined $status) {
            kill SIGKILL, $pid;
            waitpid($pid, 0);
            $status = 1 << 8;
        }
        if ($status == 0) {
            # the daemon writes its pid file right after forking
            my $deadline = time + 5;
            sleep 0.005 while !defined _read_pid() && time < $deadline;
        }
    }

    $StartupStderr = _slurp($errfh->filename);
    if ($StartupStderr ne '' && !defined $block->must_die
        && !defined $block->suppress_stderr)
    {
        print STDERR $StartupStderr;
    }
    return $status;
}

# HUP-mode reload: rewrite the config, reopen logs, reload, and wait until
# the new configuration answers.  Returns true on success.
sub _reload_nginx ($$$$) {
    my ($block, $pid, $config, $rand_ports) = @_;
    my $name = $block->name;

    $ConfigVersion = join '', map { ('a'..'z', 0..9)[rand 36] } 1 .. 10;

    setup_server_root(0);
    run_customer_init_script($block);
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    kill(SIGUSR1, $pid) or return 0;    # reopen the (just deleted) logs
    sleep $TestNginxSleep;
    my @old_workers = _worker_pids($pid);
    kill(SIGHUP, $pid) or return 0;
    sleep $TestNginxSleep * 3;

    if (defined $block->reload_fails) {
        sleep 0.3;
        return 1;
    }

    # The master starts the new workers and only ~100ms later asks the old
    # ones to quit; meanwhile both accept connections.  So wait until /ver
    # serves the new version *and* the old workers no longer accept.
    my ($ok, $deadline) = (0, time + 10);
    while (time < $deadline) {
        my $ver = _fetch_config_version($block);
        if (defined $ver && $ver eq $ConfigVersion) {
            $ok++;
        } else {
            $ok = 0;
            sleep 0.05;
            next;
        }
        my @busy = grep { _accepting_worker($_) } @old_workers;
        if (!@busy && $ok >= 3) {
            # without /proc we cannot see the old workers: outwait the master
            sleep 0.2 unless -d "/proc/$pid";
            return 1;
        }
        sleep 0.01;
    }
    Test::More::fail("$name - failed to reload the configuration via HUP");
    return 1;
}

# Pids of the worker processes of the nginx master $master (needs /proc).
sub _worker_pids ($) {
    my $master = shift;
    my @pids;
    for my $dir (glob '/proc/[0-9]*') {
        my ($p) = $dir =~ m{(\d+)$};
        my $stat = _slurp("$dir/stat");
        next unless $stat =~ /^\d+ \(.*\) \S+ (\d+) /s && $1 == $master;
        push @pids, $p if _slurp("$dir/cmdline") =~ /worker process/;
    }
    return @pids;
}

# An old worker still accepts connections until it has processed QUIT
# (its title then says "shutting down").
sub _accepting_worker ($) {
    my $pid = shift;
    return 0 unless is_running($pid);
    return _slurp("/proc/$pid/cmdline") =~ /shutting down/ ? 0 : 1;
}

sub _fetch_config_version ($) {
    my $block = shift;
    if (use_http2($block)) {
        my $cmd = join ' ', 'curl', '--http2-prior-knowledge', '-sS',
                  '-H', "'Host: Test-Nginx'", '--max-time', 2,
                  "http://$ServerAddr:$ServerPort/ver", '2>/dev/null';
        my $out = `$cmd`;
        return $? == 0 ? $out : undef;
    }

    my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                     PeerPort => $ServerPort,
                                     Proto => 'tcp', Timeout => 2)
        or return undef;
    print $sock "GET /ver HTTP/1.0\r\nHost: Test-Nginx\r\n\r\n";
    my $resp = '';
    my $sel = IO::Select->new($sock);
    while ($sel->can_read(2)) {
        my $n = sysread $sock, my $buf, 4096;
        last unless $n;
        $resp .= $buf;
    }
    close $sock;
    return $resp =~ /\A\S+ 200 .*?\r\n\r\n(.*)\z/s ? $1 : undef;
}

# Valgrind reports (one file per process) for the block that just ran.
our $ValgrindErrorRe = qr{
      Invalid\s(?:read|write|free)
    | uninitialised
    | Conditional\sjump
    | Syscall\sparam
    | Mismatched\sfree
    | Source\sand\sdestination\soverlap
    | Jump\sto\sthe\sinvalid\saddress
    | definitely\slost
    | possibly\slost
    | Process\sterminating\swith\sdefault\saction
    | Argument\s'\w+'\sof\sfunction
}x;

sub check_valgrind_logs ($) {
    my $name = shift;
    my @reports;
    for my $file (sort glob "$LogDir/valgrind.*.log") {
        my $data = _slurp($file);
        next unless $data =~ $ValgrindErrorRe;
        push @reports, "==> $file <==\n$data";
    }
    if (@reports) {
        Test::More::fail("$name - valgrind clean");
        Test::More::diag(join "\n", @reports);
    }
}

# Name of the block whose nginx currently runs under valgrind: its reports
# are checked once that nginx exits (when the next block restarts the
# server, or at the end), since leak reports are only written at exit and
# blocks without --- config keep using the running server.
our $ValgrindBlockName;

sub _stop_nginx_and_check_valgrind ($) {
    my $name = shift;
    stop_nginx($name, $UseValgrind ? 120 : undef);
    if (defined $ValgrindBlockName) {
        check_valgrind_logs($ValgrindBlockName);
        undef $ValgrindBlockName;
    }
}

# ---------------------------------------------------------------------------
# The mock TCP server (--- tcp_listen / tcp_reply / tcp_query ...)
# ---------------------------------------------------------------------------

sub _start_tcp_server ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;

    my $target = expand_env_in_text($block->tcp_listen, $name, $rand_ports);
    my $reply = $block->tcp_reply;
    bail_out("$name - no --- tcp_reply specified but --- tcp_listen is specified")
        if !defined $reply && !defined $block->tcp_shutdown;

    my $req_len = $block->tcp_query_len;
    my $query_file;
    if (defined $block->tcp_query || defined $req_len) {
        $req_len //= length $block->tcp_query;
        $query_file = File::Temp->new(TEMPLATE => 'tn-tcp-XXXXXX', TMPDIR => 1);
    }

    my $sock;
    for my $try (1 .. 30) {
        if ($target =~ /^\d+$/) {
            $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                          LocalPort => $target,
                                          Proto => 'tcp', ReuseAddr => 1,
                                          Listen => 5);
        } elsif ($target =~ /\.sock$/) {
            require IO::Socket::UNIX;
            unlink $target if -e $target;
            $sock = IO::Socket::UNIX->new(Local => $target, Listen => 5,
                                          Type => Socket::SOCK_STREAM());
        } else {
            bail_out("$name - bad tcp_listen target: $target");
        }
        last if $sock;
        last unless $! =~ /in use/i;
        sleep 0.2;
    }
    bail_out("$name - failed to create the tcp listening socket: $!") unless $sock;

    my $pid = fork;
    bail_out("$name - fork() failed: $!") unless defined $pid;

    if ($pid) {
        close $sock;
        $TcpServerPid = $pid;
        return ($query_file, $target);
    }

    # child: serve one connection
    $InSubprocess = 1;
    Test::More->builder->no_ending(1);
    my $client = $sock->accept or POSIX::_exit(1);

    my ($no_read, $no_write);
    if (defined(my $how = $block->tcp_shutdown)) {
        sleep parse_time($block->tcp_shutdown_delay) if $block->tcp_shutdown_delay;
        shutdown $client, $how;
        ($how == 0 || $how == 2) ? ($no_read = 1) : ($no_write = 1);
    }

    my $buf = '';
    if (!$no_read) {
        my $auto = $block->tcp_query_auto_timeout;
        my $idle = (defined $auto && $auto ne '') ? $auto + 0 : 0.1;
        my $sel = IO::Select->new($client);
        while (1) {
            last if defined $auto && !$sel->can_read($idle);
            my $n = sysread $client, my $chunk, 4096;
            last unless $n;
            $buf .= $chunk;
            if ($query_file) {
                # rewrite atomically so that the parent never sees a torn file
                my $tmp = $query_file->filename . '.tmp';
                if (open my $out, '>', $tmp) {
                    print $out $buf;
                    close $out;
                    rename $tmp, $query_file->filename;
                }
            }
            last if !defined $auto && (!$req_len || length($buf) >= $req_len);
        }
    }

    if (my $delay = parse_time($block->tcp_reply_delay)) {
        sleep $delay;
    }

    if (!$no_write && defined $reply) {
        $reply = $reply->($buf) if ref $reply eq 'CODE';
        for my $part (ref $reply eq 'ARRAY' ? @$reply : ($reply)) {
            syswrite $client, $part;
        }
    }

    if (defined $block->tcp_no_close) {
        sleep 1 while 1;
    }
    close $client;
    POSIX::_exit(0);
}

sub _stop_tcp_server ($) {
    my $name = shift;
    return unless defined $TcpServerPid;
    if (is_running($TcpServerPid)) {
        kill SIGKILL, $TcpServerPid;
    }
    waitpid($TcpServerPid, 0);
    undef $TcpServerPid;
}

sub _check_tcp_query ($$) {
    my ($block, $query_file) = @_;
    my $name = $block->name;
    return unless $query_file;
    my $got = _slurp($query_file->filename);
    if (defined $block->tcp_query) {
        is_str($got, $block->tcp_query, "$name - tcp_query ok");
    }
    if (defined $block->tcp_query_len) {
        Test::More::is(length($got), $block->tcp_query_len,
                       "$name - TCP query length ok");
    }
}

# ---------------------------------------------------------------------------
# Skip / todo conditions
# ---------------------------------------------------------------------------

sub _version_cmp_true ($$$) {
    my ($have, $op, $want) = @_;
    return 0 unless defined $have;
    return $op eq '<'  ? $have <  $want
         : $op eq '<=' ? $have <= $want
         : $op eq '>'  ? $have >  $want
         :               $have >= $want;
}

# Returns (should_skip, tests_to_skip, reason, should_todo, todo_reason).
sub _skip_conditions ($) {
    my $block = shift;
    my $name = $block->name;
    my ($skip, $count, $reason, $todo, $todo_reason);
    my $ver_re = qr/([<>]=?)\s*(\d+)\.(\d+)\.(\d+)/;

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            my ($n, $code) = ($1, $2);
            $count = $n;
            $reason = 'skip_eval';
            $skip = eval $code;
            bail_out("$name - skip_eval - failed to eval \"$code\": $@") if $@;
        }
    }

    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ /^\s*(\d+)\s*:\s*$ver_re(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        $count = $1;
        $reason = $6 || "nginx version $2 $3.$4.$5";
        $skip = 1 if _version_cmp_true($NginxVersion, $2,
                                       get_canon_version($3, $4, $5));
    } elsif (defined(my $spec2 = $block->skip_nginx2)) {
        $spec2 =~ /^\s*(\d+)\s*:\s*$ver_re\s*(or|and)\s*$ver_re(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx2 spec: $spec2");
        $count = $1;
        my $a = _version_cmp_true($NginxVersion, $2, get_canon_version($3, $4, $5));
        my $b = _version_cmp_true($NginxVersion, $7, get_canon_version($8, $9, $10));
        $reason = $11;
        $skip = 1 if $6 eq 'or' ? ($a || $b) : ($a && $b);
    }

    if (defined(my $spec = $block->skip_openssl)) {
        $spec =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)([a-z])?(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_openssl spec: $spec");
        $count = $1;
        my $want = get_canon_version($3, $4, $5)
                   . (defined $6 ? sprintf('%03d', ord($6) - ord('a')) : '');
        $reason = $7 || (defined $OpenSSLVersion
                         ? "OpenSSL version $2 $3.$4.$5" . ($6 // '')
                         : 'Not built with OpenSSL');
        $skip = 1 if !defined $OpenSSLVersion
                     || _version_cmp_true($OpenSSLVersion, $2, $want);
    }

    if (defined(my $spec = $block->todo_nginx)) {
        $spec =~ /^\s*$ver_re(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- todo_nginx spec: $spec");
        $todo_reason = $5;
        $todo = 1 if _version_cmp_true($NginxVersion, $1,
                                       get_canon_version($2, $3, $4));
    }

    if (defined(my $spec = $block->todo)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $spec");
        ($todo, $count, $todo_reason) = (1, $1, $2);
    }

    return ($skip, $count, $reason || 'various reasons', $todo,
            $todo_reason || 'various reasons');
}

# ---------------------------------------------------------------------------
# Block driver
# ---------------------------------------------------------------------------

sub check_prev_block_shutdown_error_log () {
    my $block = $PrevBlock or return;
    return unless defined $block->shutdown_error_log
                  || defined $block->no_shutdown_error_log;
    my $dry_run = ($UseHup || $ENV{TEST_NGINX_NO_CLEAN}) ? 1 : 0;
    $CheckShutdownErrorLog->($block, $dry_run) if $CheckShutdownErrorLog;
    undef $PrevBlock;
}

sub run_tests () {
    srand($$ ^ int(time * 1000));
    get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks unless $NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
        $_->($block) for @TestCleanupHandlers;
        $PrevBlock = $block;
    }

    cleanup();
}

sub _must_die_checks ($$$) {
    my ($block, $status, $iter) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;
    my $exit_code = $status >> 8;

    if ($status & 127) {
        Test::More::fail("$name - nginx crashed with signal " . ($status & 127));
    } elsif ($exit_code == 127 && $StartupStderr =~ /failed to execute/) {
        Test::More::fail("$name - failed to execute the nginx command line");
    } elsif (looks_like_number($must_die)) {
        Test::More::is($exit_code, $must_die, "$name - die with the expected exit code");
    } else {
        Test::More::isnt($status, 0, "$name - die as expected");
    }

    # the error log assertions also see nginx's stderr
    my @stderr_lines = map { "$_\n" } split /\n/, $StartupStderr;
    $CheckErrorLog->($block, undef, 0, $iter, 0, \@stderr_lines) if $CheckErrorLog;

    if ($status == 0) {
        warn "WARNING: $name - nginx must die but it does not; killing it\n";
        stop_nginx($name);
    }
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    my $first_time = $FirstTime;
    $FirstTime = 0;

    my $rand_ports = {};
    $RandPorts = $rand_ports;

    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    local $LogLevel = $block->log_level || $LogLevel;
    my $must_die = $block->must_die;
    local $UseHup = defined $must_die ? undef : $UseHup;

    # Blocks without --- config reuse the server of the previous block.
    my ($should_restart, $should_reconfig) = (1, 1);
    if (!defined $config) {
        if (!$NoNginxManager && !defined $PrevConfig) {
            bail_out("$name - No '--- config' section specified and could not "
                     . "get previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?");
        }
        ($should_restart, $should_reconfig) = (0, 0);
    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name ignored");
        ($should_restart, $should_reconfig) = (0, 0);
    } else {
        $should_reconfig = (!defined $PrevConfig || $config ne $PrevConfig) ? 1 : 0;
        $should_restart = ($should_reconfig || $ForceRestartOnTest) ? 1 : 0;
    }

    my ($should_skip, $tests_to_skip, $skip_reason, $should_todo, $todo_reason)
        = _skip_conditions($block);

    my $dry_run = 0;

    if (!$NoNginxManager && !$should_skip && $should_restart) {
        $PrevConfig = $config if $should_reconfig;

        my $reloaded = 0;
        my $pid = _read_pid();
        if (defined $pid && is_running($pid) && _looks_like_nginx($pid)) {
            if ($UseHup && !$first_time) {
                $reloaded = _reload_nginx($block, $pid, $config, $rand_ports);
            }
            _stop_nginx_and_check_valgrind($name) unless $reloaded;
        } else {
            # clears a stale pid file / leftover child
            _stop_nginx_and_check_valgrind($name);
        }

        check_prev_block_shutdown_error_log();

        if (!$reloaded) {
            my $iterations = defined $must_die ? $RepeatEach : 1;
            for my $iter (0 .. $iterations - 1) {
                $ConfigVersion = join '', map { ('a'..'z', 0..9)[rand 36] } 1 .. 10
                    if $UseHup;
                setup_server_root($first_time);
                run_customer_init_script($block);
                write_user_files($block, $rand_ports);
                write_config_file($block, $config, $rand_ports);

                $ErrLogFilePos = 0;
                $AccLogFilePos = 0;
                my $status = start_nginx($block);

                # "Address already in use" usually means the previous nginx
                # is still releasing the port: retry for a while.
                my $waited = 0;
                while (!defined $must_die && $status != 0 && $waited < 30
                       && (_slurp($ErrLogFile) . $StartupStderr) =~ /in use/)
                {
                    $waited += 0.5;
                    sleep 0.5;
                    $status = start_nginx($block);
                }

                if (defined $must_die) {
                    _must_die_checks($block, $status, $iter);
                    next;
                }

                if ($status != 0) {
                    my $directive;
                    if ($ENV{TEST_NGINX_IGNORE_MISSING_DIRECTIVES}
                        and $directive = _missing_directive())
                    {
                        $dry_run = "the lack of directive $directive";
                    } else {
                        my $log = _slurp($ErrLogFile);
                        bail_out("$name - Cannot start nginx using command \""
                                 . join(' ', _nginx_cmd($block))
                                 . "\" (status code $status).\n"
                                 . $StartupStderr . $log);
                    }
                }
                $ValgrindBlockName = $name if _block_uses_valgrind($block);
            }
            return if defined $must_die;
        }
    }

    if (my $init = $block->init) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    $AccLogFilePos = 0;

    for my $i (1 .. $RepeatEach) {
        my ($tcp_query_file, $tcp_target);
        if (defined $block->tcp_listen && !$should_skip) {
            ($tcp_query_file, $tcp_target) = _start_tcp_server($block, $rand_ports);
        }

        write_user_files($block, $rand_ports) if $i > 1;

        if ($should_skip && defined $tests_to_skip) {
            SKIP: {
                Test::More::skip("$name - $skip_reason", $tests_to_skip);
            }
        } elsif ($should_todo) {
            TODO: {
                Test::More::todo_skip("$name - $todo_reason", $tests_to_skip // 1);
            }
        } else {
            $RunTestHelper->($block, $dry_run, $i - 1);
            _check_tcp_query($block, $tcp_query_file);
        }

        _stop_tcp_server($name);
        unlink $tcp_target if defined $tcp_target && $tcp_target =~ /\.sock$/;
    }

    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile) {
            if (open my $out, '>>', $total) {
                print $out "\n=== $0 $name\n", _slurp($ErrLogFile);
                close $out;
            } else {
                warn "Failed to append to $total: $!\n";
            }
        }
    }
}

sub cleanup () {
    $_->() for @CleanupHandlers;
    _stop_tcp_server('cleanup');
}

END {
    return if $InSubprocess;
    local $?;   # keep Test::Builder's exit status

    cleanup();

    if (!$NoNginxManager && ($UseValgrind || !$ENV{TEST_NGINX_NO_CLEAN})) {
        _stop_nginx_and_check_valgrind('END');
    }

    check_prev_block_shutdown_error_log();

    if ($Randomize && defined $ServRoot && $ServRoot =~ m{/t/servroot_\d+$}) {
        remove_tree($ServRoot);
    }
}

1;
