# Fuzz harnesses of the parsers that see outside bytes, compiled from the
# module's real sources against nginx's headers (nginx-dev) and the
# configured objs directory (../build/nginx, made by `make` at the top),
# with fuzz/ngx_stubs.c in place of nginx's core.  Included by Makefile.
#
#   make parsers-test              build each harness, replay its corpus
#                                  (FUZZ_FULL=1: no sampling of cut points)
#   make fuzz-all [FUZZ_SECONDS=60]    run each harness for FUZZ_SECONDS
#   make fuzz-NAME                 one of them (NAME: usage keys state retry
#                                  redis fleet_sync)

NGINX_SRC    ?= /usr/share/nginx/src
NGX_OBJS     ?= $(ROOT)/build/nginx
NGX_INCS     := $(addprefix -I$(NGINX_SRC)/src/, core event event/modules \
                  os/unix http http/modules http/v2) \
                -I$(SRC) -I$(NGX_OBJS) -I$(CURDIR)

# as nginx builds modules, minus what nginx's own headers trip on
NGX_WARN     := -Wall -Wextra -Werror -Wno-unused-parameter \
                -Wno-sign-compare -Wno-missing-field-initializers
NGX_FUZZ     := -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all

PARSERS      := usage keys state retry redis fleet_sync
STUBS        := ngx_stubs.c ngx_stubs.h

usage_SRCS   := $(SRC)/ngx_http_llm_router_usage.c \
                $(SRC)/ngx_http_llm_router_scan.c \
                $(SRC)/ngx_http_llm_router_filter.c
usage_LIBS   := -lcjson
usage_LEN    := 4096

keys_SRCS    := $(SRC)/ngx_http_llm_router_keys.c \
                $(SRC)/ngx_http_llm_router_upstream.c \
                $(SRC)/ngx_http_llm_router_presets.c \
                $(SRC)/ngx_http_llm_router_util.c
keys_LIBS    := -lcrypto

retry_SRCS   := $(SRC)/ngx_http_llm_router_util.c
retry_LIBS   := -lcrypto

state_SRCS   := $(SRC)/ngx_http_llm_router_state_load.c \
                $(SRC)/ngx_http_llm_router_state.c \
                $(SRC)/ngx_http_llm_router_stats.c
state_LIBS   := -lcjson

redis_SRCS   := $(SRC)/ngx_http_llm_router_redis.c \
                $(SRC)/ngx_http_llm_router_redis_buf.c \
                $(SRC)/ngx_http_llm_router_redis_queue.c \
                $(SRC)/ngx_http_llm_router_redis_cmd.c \
                $(SRC)/ngx_http_llm_router_resp.c \
                $(SRC)/ngx_http_llm_router_fleet_scripts.c \
                $(SRC)/ngx_http_llm_router_fleet.c \
                $(SRC)/ngx_http_llm_router_fleet_batch.c \
                $(SRC)/ngx_http_llm_router_fleet_lease.c \
                $(SRC)/ngx_http_llm_router_fleet_store.c \
                $(SRC)/ngx_http_llm_router_window.c
redis_LIBS   := -lhiredis
redis_LEN    := 4096

# the sync's reply handlers, their replies made by the module's reader
fleet_sync_SRCS := $(SRC)/ngx_http_llm_router_fleet_sync.c \
                   $(SRC)/ngx_http_llm_router_resp.c
fleet_sync_LIBS := -lhiredis
fleet_sync_LEN  := 4096

FUZZ_PKGS    += nginx-dev libssl-dev libhiredis-dev

.PHONY: parsers-test fuzz-all $(addprefix fuzz-,$(PARSERS))

parsers-test: $(addprefix $(BUILD)/fuzz_,$(PARSERS))
	@for p in $(PARSERS); do \
	    echo "replay corpus-$$p"; \
	    FUZZ_FULL=1 $(BUILD)/fuzz_$$p -runs=0 $(CURDIR)/corpus-$$p \
	        >$(BUILD)/replay-$$p.log 2>&1 \
	        || { cat $(BUILD)/replay-$$p.log; exit 1; }; \
	    grep -E "^(INFO: seed corpus|Done)" $(BUILD)/replay-$$p.log; \
	done

fuzz-all: $(addprefix fuzz-,$(PARSERS))

$(addprefix fuzz-,$(PARSERS)): fuzz-%: $(BUILD)/fuzz_%
	@mkdir -p $(BUILD)/corpus-$*
	$(BUILD)/fuzz_$* $(BUILD)/corpus-$* $(CURDIR)/corpus-$* \
	    $(if $(wildcard $(CURDIR)/$*.dict),-dict=$(CURDIR)/$*.dict) \
	    -max_len=$(or $($*_LEN),$(FUZZ_LEN)) \
	    -max_total_time=$(FUZZ_SECONDS) \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/$*- $(FUZZ_FLAGS)

$(NGX_OBJS)/ngx_auto_config.h:
	$(MAKE) -C $(ROOT) all

.SECONDEXPANSION:
$(addprefix $(BUILD)/fuzz_,$(PARSERS)): $(BUILD)/fuzz_%: fuzz_%.c \
    $$($$*_SRCS) $(STUBS) $(SRC)/ngx_http_llm_router.h \
    $(NGX_OBJS)/ngx_auto_config.h | fuzz-deps $(BUILD)
	$(CLANG) $(NGX_FUZZ) $(NGX_WARN) $(NGX_INCS) -o $@ $< ngx_stubs.c \
	    $($*_SRCS) $($*_LIBS)
