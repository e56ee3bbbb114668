# ngx_http_llm_router_module: build, test, demo and benchmark.
#
#   make             build build/ngx_http_llm_router_module.so (and the mock)
#   make test        install what is missing, build, run the whole suite
#   make demo        start a gateway on 127.0.0.1:8080 with an offline mock
#   make bench       wrk: gateway vs plain proxy_pass on the same mock
#   make bench-cost  callgrind: instructions per request, gateway vs plain
#   make test-valgrind   the suite with every nginx under valgrind memcheck
#   make fuzz        libFuzzer + differential test of the JSON scanner
#   make test-asan   the suite on nginx built with AddressSanitizer and
#                    UBSan (-DNGX_DEBUG_PALLOC=1), zero reports
#   make soak        SOAK_SECONDS (600) of mixed traffic: worker RSS and
#                    zone usage must stay flat
#   make fault       FAULT_SECONDS (60) of load through a fault-injecting
#                    provider, with 5 reloads and a binary upgrade: no
#                    request lost, every counter adds up
#   make deb         Debian package libnginx-mod-http-llm-router (build/deb)
#   make test-deb    build it, install it on this machine's nginx, serve
#                    a request through it, remove it again
#   make test-compat the suite against nginx.org stable and mainline, built
#                    from $(COMPAT_SRC) with the modules nginx.org enables

SHELL        := /bin/bash
NGINX        ?= /usr/sbin/nginx
NGINX_SRC    ?= /usr/share/nginx/src
BUILD        := $(CURDIR)/build
OBJS         := $(BUILD)/nginx
MODULE       := $(BUILD)/ngx_http_llm_router_module.so
MOCK         := $(BUILD)/ngx_http_llm_mock_module.so
SRCS         := $(wildcard src/*.c src/*.h) config
MOCK_SRCS    := $(wildcard mock/*.c mock/*.h) mock/config

DEB_PKGS     := nginx nginx-dev libcjson-dev libssl-dev libhiredis-dev \
                libtest-base-perl curl ca-certificates
TEST_PKGS    := chromium redis-server openssl
BENCH_PKGS   := wrk bc python3 redis-server
COST_PKGS    := valgrind python3

COMPAT_PKGS  := libpcre2-dev zlib1g-dev

# nginx.org sources: CI has them next to the repository clone
COMPAT_SRC      ?= $(CURDIR)/../shared/nginx
COMPAT_VERSIONS ?= 1.30.4 1.31.4
COMPAT          := $(BUILD)/compat
COMPAT_BINS     := $(foreach v,$(COMPAT_VERSIONS),$(COMPAT)/nginx-$(v)/objs/nginx)

# what nginx.org's own packages are configured with (nginx -V); --with-debug
# as in their nginx-debug binary, because the suite reads debug log lines
COMPAT_FLAGS := --with-compat --with-file-aio --with-threads \
    --with-http_addition_module --with-http_auth_request_module \
    --with-http_dav_module --with-http_flv_module \
    --with-http_gunzip_module --with-http_gzip_static_module \
    --with-http_mp4_module --with-http_random_index_module \
    --with-http_realip_module --with-http_secure_link_module \
    --with-http_slice_module --with-http_ssl_module \
    --with-http_stub_status_module --with-http_sub_module \
    --with-http_v2_module --with-http_v3_module \
    --with-mail --with-mail_ssl_module --with-stream \
    --with-stream_realip_module --with-stream_ssl_module \
    --with-stream_ssl_preread_module \
    --with-debug

TEST_FILES   ?= t/
PROVE_INC    := $(shell perl -MTest::Nginx::Socket -e1 2>/dev/null \
                  || echo "-I t/lib")

export TEST_NGINX_BINARY       ?= $(NGINX)
export TEST_NGINX_LOAD_MODULES ?= $(MODULE) $(MOCK)

.PHONY: all deps bench-deps test test-valgrind test-compat demo bench \
        bench-cost fuzz clean deb test-deb test-asan soak fault

all: $(MODULE)

# Installs the Debian packages that are missing (only when run as root;
# otherwise it says what to install).
deps:
	@missing=""; for p in $(DEB_PKGS) $(EXTRA_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "missing packages:$$missing (run as root or install them)"; \
	        exit 1; \
	    fi; \
	    echo "installing:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq \
	        -o Dpkg::Options::=--force-confold $$missing >/dev/null; \
	fi

$(OBJS)/Makefile: config mock/config | deps
	@mkdir -p $(OBJS)
	cd $(NGINX_SRC) && . ./conf_flags && ./configure \
	    --with-cc-opt="$$(dpkg-buildflags --get CFLAGS) \
	        $$(dpkg-buildflags --get CPPFLAGS) -fPIC $(EXTRA_CFLAGS)" \
	    --with-ld-opt="$$(dpkg-buildflags --get LDFLAGS) -fPIC" \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --add-dynamic-module=$(CURDIR) \
	    --add-dynamic-module=$(CURDIR)/mock \
	    --builddir=$(OBJS) >$(BUILD)/configure.log 2>&1 \
	    || { tail -20 $(BUILD)/configure.log; exit 1; }

$(MODULE) $(MOCK): $(OBJS)/Makefile $(SRCS) $(MOCK_SRCS)
	$(MAKE) -s -f $(OBJS)/Makefile -C $(NGINX_SRC) modules
	@# a new inode: nginx processes running the old file keep it
	cp $(OBJS)/ngx_http_llm_router_module.so $(MODULE).tmp
	mv -f $(MODULE).tmp $(MODULE)
	cp $(OBJS)/ngx_http_llm_mock_module.so $(MOCK).tmp
	mv -f $(MOCK).tmp $(MOCK)

test: EXTRA_PKGS = $(TEST_PKGS)
test: deps all
	$(MAKE) -s -C fuzz test test-resp
	prove $(PROVE_INC) -r $(TEST_FILES)
	@# many large bodies at once, which the suite never sends
	python3 bench/body_stress.py $$(( $${TEST_NGINX_PORT:-1984} + 5 ))

# Every nginx of the suite runs under valgrind memcheck; a block whose
# valgrind log shows an error fails.
test-valgrind: EXTRA_PKGS = valgrind
test-valgrind: deps all
	TEST_NGINX_USE_VALGRIND=1 prove $(PROVE_INC) -r $(TEST_FILES)

# The whole suite against each nginx.org version, this module and the mock
# built as dynamic modules of it (everything stays under build/compat).
test-compat: EXTRA_PKGS = $(TEST_PKGS) $(COMPAT_PKGS)
test-compat: deps $(COMPAT_BINS)
	@failed=; for v in $(COMPAT_VERSIONS); do \
	    o=$(COMPAT)/nginx-$$v/objs; \
	    echo "== nginx $$v"; \
	    TEST_NGINX_BINARY=$$o/nginx \
	    TEST_NGINX_LOAD_MODULES="$$o/ngx_http_llm_router_module.so \
	        $$o/ngx_http_llm_mock_module.so" \
	    prove $(PROVE_INC) -r $(TEST_FILES) || failed="$$failed $$v"; \
	done; \
	[ -z "$$failed" ] || { echo "test-compat failed on nginx$$failed"; exit 1; }

.PRECIOUS: $(COMPAT)/nginx-%/Makefile

# nginx.org builds use every core unless make was given its own -j
NGX_JOBS      = $(if $(findstring -j,$(MAKEFLAGS)),,-j$(shell nproc))

# One recipe extracts and configures nginx.org's source with this module and
# the mock as dynamic modules (test-compat and test-asan); NGX_EXTRA_FLAGS
# adds what a build needs beyond nginx.org's own flags.
define nginx-configure
rm -rf $(@D) && mkdir -p $(@D)
tar -xzf $< -C $(@D) --strip-components=1
@# a GitHub tarball has auto/configure, a release one ./configure
cd $(@D) && c=./configure && { [ -x $$c ] || c=auto/configure; } \
    && $$c --prefix=$(@D) $(COMPAT_FLAGS) $(NGX_EXTRA_FLAGS) \
    --add-dynamic-module=$(CURDIR) \
    --add-dynamic-module=$(CURDIR)/mock >configure.log 2>&1 \
    || { tail -20 configure.log; exit 1; }
endef

define nginx-make
$(MAKE) -s $(NGX_JOBS) -C $(@D:%/objs=%) >$(@D:%/objs=%)/make.log 2>&1 \
    || { tail -30 $(@D:%/objs=%)/make.log; exit 1; }
touch $@
endef

$(COMPAT)/nginx-%/Makefile: $(COMPAT_SRC)/nginx-%.tar.gz config mock/config
	$(nginx-configure)

$(COMPAT)/nginx-%/objs/nginx: $(COMPAT)/nginx-%/Makefile $(SRCS) $(MOCK_SRCS)
	$(nginx-make)

demo: deps all
	@bash demo/run.sh

bench: EXTRA_PKGS = $(BENCH_PKGS)
bench: deps all
	@bash bench/run.sh

# Deterministic: instructions counted by callgrind, see bench/cost.sh.
bench-cost: EXTRA_PKGS = $(COST_PKGS)
bench-cost: deps all
	@bash bench/cost.sh

soak: EXTRA_PKGS = $(BENCH_PKGS)
soak: deps all
	@bash bench/soak.sh

fault: EXTRA_PKGS = $(BENCH_PKGS) curl
fault: deps all
	@bash bench/fault.sh

fuzz: deps
	$(MAKE) -C fuzz test fuzz

# nginx itself, this module and the mock built with AddressSanitizer and
# UBSan; NGX_DEBUG_PALLOC makes every pool allocation its own malloc, so a
# pool overrun is caught too. ASan's reports are written under
# build/asan/reports and fail the run. GCC's UBSan ignores log_path and
# prints to stderr, which nginx sends to error.log once started: UBSan
# aborts the process instead (halt_on_error), so the test that ran into
# it fails, whichever process it was.
ASAN_SRC     ?= $(COMPAT_SRC)/nginx-1.30.4.tar.gz
ASAN         := $(BUILD)/asan
ASAN_NGINX   := $(ASAN)/nginx/objs/nginx
ASAN_CFLAGS  := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -DNGX_DEBUG_PALLOC=1
ASAN_ENV     := ASAN_OPTIONS=detect_leaks=1:detect_odr_violation=0:$\
                abort_on_error=1:log_path=$(ASAN)/reports/asan \
                LSAN_OPTIONS=suppressions=$(CURDIR)/t/lsan.suppress \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$\
                abort_on_error=1:suppressions=$(CURDIR)/t/ubsan.suppress

$(ASAN)/nginx/Makefile: NGX_EXTRA_FLAGS = --with-cc-opt="$(ASAN_CFLAGS)" \
    --with-ld-opt="-fsanitize=address,undefined"
$(ASAN)/nginx/Makefile: $(ASAN_SRC) config mock/config | deps
	$(nginx-configure)

$(ASAN_NGINX): $(ASAN)/nginx/Makefile $(SRCS) $(MOCK_SRCS)
	$(nginx-make)

test-asan: EXTRA_PKGS = $(TEST_PKGS) libpcre2-dev zlib1g-dev
test-asan: deps $(ASAN_NGINX)
	rm -rf $(ASAN)/reports && mkdir -p $(ASAN)/reports
	$(ASAN_ENV) TEST_NGINX_BINARY=$(ASAN_NGINX) \
	TEST_NGINX_LOAD_MODULES="$(ASAN)/nginx/objs/ngx_http_llm_router_module.so \
	    $(ASAN)/nginx/objs/ngx_http_llm_mock_module.so" \
	    prove $(PROVE_INC) -r $(TEST_FILES); rc=$$?; \
	if grep -l 'ERROR: \|runtime error' $(ASAN)/reports/* 2>/dev/null; then \
	    echo "sanitizer reports (above) in $(ASAN)/reports"; exit 1; \
	fi; exit $$rc

# The package is built the way Debian builds its nginx modules
# (dh-sequence-nginx), from a copy of the tree so that dpkg-buildpackage
# writes nothing outside build/.
DEB_DIR      := $(BUILD)/deb

deb: EXTRA_PKGS = debhelper dpkg-dev
deb: deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	tar --exclude=./build --exclude=./.git --exclude='./t/servroot*' \
	    -cf - . | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b \
	    >$(DEB_DIR)/build.log 2>&1 \
	    || { tail -30 $(DEB_DIR)/build.log; exit 1; }
	@ls $(DEB_DIR)/*.deb

# Installs the package on this machine's nginx (root only), runs its
# autopkgtest, and removes it again unless KEEP_DEB=1.
test-deb: deb
	apt-get install -y -qq $$(ls $(DEB_DIR)/libnginx-mod-http-llm-router_*.deb) \
	    >$(DEB_DIR)/install.log 2>&1 \
	    || { tail -20 $(DEB_DIR)/install.log; exit 1; }
	bash debian/tests/gateway; rc=$$?; \
	[ -n "$(KEEP_DEB)" ] || dpkg -P libnginx-mod-http-llm-router >/dev/null; \
	exit $$rc

clean:
	rm -rf $(BUILD) t/servroot
