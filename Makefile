# vendange - top-level build.
#   make            build every binary into build/bin (optimised)
#   make check      install packages, build with ASan/UBSan and -Werror, run every test
#   make check-deep SEEDS=a-b [ODOO_SEEDS=c-d]  the differential tests over many random
#                   exports and Odoo data sets (not in CI)
#   make demo       install packages, build, start the services, sync the sample export
#   make lint       clang-format check and banned functions
#   make check-rules   promtool check rules deploy/prometheus/*.yml (part of check)
#   make bench      vendange against psql \copy and pgloader (README, Benchmarks)
#   make images     the Docker images (service, PostgreSQL), offline if need be
#   make check-deploy  the docker-compose stack on the local Docker Engine
#   make check-fresh   make demo and make check in a bare Debian 12 container
#   make fuzz       every libFuzzer target for FUZZ_SECONDS each (tests/fuzz)
# BUILD selects the output folder, SAN=1 adds AddressSanitizer/UBSan.

CC      ?= gcc
BUILD   ?= build
SAN     ?= 0
PKGS    := libczmq libzmq msgpack libpq libxml-2.0 libzip freexl libcurl \
           libmicrohttpd jansson libsodium libutf8proc
# The quality report's PDF (orchestrator/orch_quality_pdf.c): linked only
# into the programs that hold the orchestrator's code.
PDF_PKGS := cairo pangocairo
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(PDF_PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PDF_LIBS   := $(shell pkg-config --libs $(PDF_PKGS) 2>/dev/null)

OPT      ?= -O2 -g
CFLAGS   := $(OPT) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror \
            -Wno-missing-field-initializers -Icommon $(PKG_CFLAGS)
LDLIBS   := $(PKG_LIBS) -lm -lpthread
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
# The fuzzing build (clang): coverage instrumentation in every library.
ifeq ($(FUZZ),1)
CFLAGS  += -fsanitize=fuzzer-no-link -Wno-error  # clang warns where gcc does not
endif

# Each component: a library of its classes (every .c but the *main.c files)
COMMON_SRC := $(wildcard common/*.c)
ISV_SRC    := $(filter-out %main.c,$(wildcard extractors/isavigne/*.c))
HOOK_SRC   := $(filter-out %main.c,$(wildcard extractors/webhook/*.c))
ODOO_SRC   := $(filter-out %main.c,$(wildcard extractors/odoo/*.c))
NORM_SRC   := $(filter-out %main.c,$(wildcard transformer/*.c))
LOAD_SRC   := $(filter-out %main.c,$(wildcard loader/*.c))
ORCH_SRC   := $(filter-out %main.c,$(wildcard orchestrator/*.c))
CLI_SRC    := $(filter-out %main.c,$(wildcard orchestrator/cli/*.c))
RECO_SRC   := $(filter-out %main.c,$(wildcard reco/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBVD   := $(BUILD)/lib/libvd.a
LIBISV  := $(BUILD)/lib/libisv.a
LIBHOOK := $(BUILD)/lib/libhook.a
LIBODOO := $(BUILD)/lib/libodoo.a
LIBNORM := $(BUILD)/lib/libnorm.a
LIBLOAD := $(BUILD)/lib/libload.a
LIBORCH := $(BUILD)/lib/liborch.a
LIBCLI  := $(BUILD)/lib/libcli.a
LIBRECO := $(BUILD)/lib/libreco.a

BINS := $(BUILD)/bin/vendange $(BUILD)/bin/orchestrator $(BUILD)/bin/normalizer \
        $(BUILD)/bin/loader $(BUILD)/bin/extractor-isavigne $(BUILD)/bin/extractor-odoo \
        $(BUILD)/bin/extractor-webhook $(BUILD)/bin/recommender \
        $(BUILD)/bin/selftest

.PHONY: all deps deps-bench deps-check deps-web deps-fuzz images check check-rules check-web check-deploy check-fresh \
        check-unit check-integration check-deep demo bench bench-webhook lint clean fuzz fuzzers \
        replays
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iextractors/isavigne -Iextractors/odoo -Iextractors/webhook -Itransformer -Iloader -Iorchestrator -Iorchestrator/cli -Ireco -MMD -MP -c $< -o $@

define make_lib
$(1): $(call obj,$(2))
	@mkdir -p $$(dir $$@)
	rm -f $$@
	ar rcs $$@ $$^
endef
$(eval $(call make_lib,$(LIBVD),$(COMMON_SRC)))
$(eval $(call make_lib,$(LIBISV),$(ISV_SRC)))
$(eval $(call make_lib,$(LIBHOOK),$(HOOK_SRC)))
$(eval $(call make_lib,$(LIBODOO),$(ODOO_SRC)))
$(eval $(call make_lib,$(LIBNORM),$(NORM_SRC)))
$(eval $(call make_lib,$(LIBLOAD),$(LOAD_SRC)))
$(eval $(call make_lib,$(LIBRECO),$(RECO_SRC)))
$(eval $(call make_lib,$(LIBCLI),$(CLI_SRC)))
# The web page's files, embedded in the orchestrator (orch_assets.c)
WEB_FILES := $(wildcard web/*.html web/*.css web/*.js)
WEB_GEN   := $(BUILD)/gen/web_assets.c
$(WEB_GEN): $(WEB_FILES) deploy/embed-web.sh
	@mkdir -p $(dir $@)
	sh deploy/embed-web.sh $@ $(WEB_FILES)
$(eval $(call make_lib,$(LIBORCH),$(ORCH_SRC) $(WEB_GEN)))

define make_bin
$(BUILD)/bin/$(1): $(call obj,$(2)) $(3) $(LIBVD)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(eval $(call make_bin,extractor-isavigne,extractors/isavigne/isv_main.c,$(LIBISV)))
$(eval $(call make_bin,extractor-webhook,extractors/webhook/hook_main.c,$(LIBHOOK)))
$(eval $(call make_bin,extractor-odoo,extractors/odoo/odoo_main.c,$(LIBODOO)))
$(eval $(call make_bin,normalizer,transformer/norm_main.c,$(LIBNORM)))
$(eval $(call make_bin,loader,loader/load_main.c,$(LIBLOAD)))
$(eval $(call make_bin,orchestrator,orchestrator/orch_main.c,$(LIBORCH) $(LIBNORM)))
$(eval $(call make_bin,vendange,orchestrator/cli/cli_main.c,$(LIBCLI) $(LIBORCH) $(LIBNORM)))
$(eval $(call make_bin,recommender,reco/reco_main.c,$(LIBRECO)))
$(eval $(call make_bin,selftest,tests/selftest.c,$(LIBISV) $(LIBHOOK) $(LIBODOO) $(LIBNORM) $(LIBLOAD) $(LIBCLI) $(LIBORCH) $(LIBRECO)))
$(BUILD)/bin/orchestrator $(BUILD)/bin/vendange $(BUILD)/bin/selftest: LDLIBS += $(PDF_LIBS)

# libFuzzer targets (tests/fuzz/fuzz_NAME.c), each linked with every
# library; built by clang with ASan/UBSan into build/fuzz.
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_NAMES))
FUZZ_SECONDS ?= 30
FUZZ_SKIP    ?=
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(LIBISV) $(LIBHOOK) $(LIBODOO) $(LIBNORM) $(LIBLOAD) $(LIBVD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fuzz -Iextractors/isavigne -Iextractors/odoo -Iextractors/webhook \
	    -Itransformer -Iloader -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(LDLIBS)
fuzzers: $(FUZZ_BINS)

# The same targets built by the ordinary compiler with a small main that
# replays files: `make check` runs every seed and regression input.
REPLAY_BINS := $(patsubst %,$(BUILD)/replay/fuzz_%,$(FUZZ_NAMES))
$(BUILD)/replay/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBISV) $(LIBHOOK) $(LIBODOO) $(LIBNORM) $(LIBLOAD) $(LIBVD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/fuzz -Iextractors/isavigne -Iextractors/odoo -Iextractors/webhook \
	    -Itransformer -Iloader $(LDFLAGS) -o $@ $^ $(LDLIBS)
replays: $(REPLAY_BINS)

deps-fuzz:
	@sh deploy/install-deps.sh fuzz

# Runs every target FUZZ_SECONDS, from its committed seeds
# (tests/fuzz/corpus/NAME) plus what earlier runs found (build/fuzz/corpus);
# executions and coverage are added to tests/fuzz/ledger.tsv. FUZZ_SKIP
# names targets left out (an open finding, tests/fuzz/open/).
fuzz: deps-fuzz
	$(MAKE) BUILD=build/fuzz CC=clang SAN=1 FUZZ=1 OPT="-O1 -g" fuzzers
	sh tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(filter-out $(FUZZ_SKIP),$(FUZZ_NAMES))

# Load test of the webhook gateway: 32 connections, SECONDS (default 60).
$(BUILD)/bin/hook-load: bench/hook_load.c $(LIBVD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-webhook: all $(BUILD)/bin/hook-load
	VD_BIN=$(CURDIR)/$(BUILD)/bin /usr/bin/python3 bench/webhook_load.py --seconds $(or $(SECONDS),60)

deps:
	@sh deploy/install-deps.sh

deps-bench:
	@sh deploy/install-deps.sh bench

deps-check:
	@sh deploy/install-deps.sh check

check-rules:
	promtool check rules deploy/prometheus/*.yml

# The test build: sanitizers on, its own folder so `make` stays optimised.
# deps-check adds promtool, which checks the Prometheus alert rules.
check: deps-check lint check-rules
	$(MAKE) BUILD=build/check SAN=1 OPT="-O1 -g" all replays
	$(MAKE) BUILD=build/check check-unit check-integration

# End-to-end tests of the web page in headless Chromium (Debian's chromium,
# chromium-driver), against the sanitizer build `make check` made.
deps-web:
	@sh deploy/install-deps.sh web

check-web: deps-web
	$(MAKE) BUILD=build/check SAN=1 OPT="-O1 -g" all
	VD_BIN=$(CURDIR)/build/check/bin /usr/bin/python3 tests/web/test_browser.py

# The differential test (tests/integration/test_differential.py) over a
# seed range, 100 exports per chunk; each finished chunk is appended to
# tests/artifacts/check-deep.log: resume with SEEDS starting after its last line.
check-deep: deps
	$(MAKE) BUILD=build/check SAN=1 OPT="-O1 -g" all
	@mkdir -p tests/artifacts
	VD_DIFF_SEEDS=$(or $(SEEDS),1001-2000) VD_DIFF_CHUNK=100 \
	    VD_DIFF_PROGRESS=$(CURDIR)/tests/artifacts/check-deep.log \
	    VD_ODOO_SEEDS=$(or $(ODOO_SEEDS),101-130) \
	    VD_BIN=$(CURDIR)/build/check/bin /usr/bin/python3 tests/integration/run.py \
	    test_differential test_odoo_differential

check-unit:
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/lsan.supp \
	    $(BUILD)/bin/selftest
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=tests/lsan.supp \
	    sh tests/fuzz/replay.sh $(BUILD)

check-integration:
	VD_BIN=$(CURDIR)/$(BUILD)/bin /usr/bin/python3 tests/integration/run.py

# deps first, then a new make: the pkg-config flags above are computed when
# make reads this file, so a build in the same make as the installation
# would get none (the first `make demo` on a bare machine).
demo: deps
	$(MAKE) all
	@sh deploy/demo.sh $(CURDIR)/$(BUILD)/bin

# Not part of check: optimised binaries, durable PostgreSQL, BENCH_* sizes.
bench: deps-bench
	$(MAKE) all $(BUILD)/bin/hook-load
	VD_BIN=$(CURDIR)/$(BUILD)/bin /usr/bin/python3 bench/run.py

lint:
	@sh deploy/lint.sh

# Docker (README, Running in production). check-deploy skips, and succeeds,
# only when no Docker daemon answers.
images:
	@sh deploy/install-deps.sh deploy
	@sh deploy/images.sh

check-deploy:
	@if docker info >/dev/null 2>&1; then \
	    sh deploy/install-deps.sh deploy && /usr/bin/python3 deploy/check_deploy.py; \
	else echo "check-deploy: SKIPPED: no Docker daemon answers (docker info failed)"; fi

# The README's two commands, as written, in a container of a bare Debian 12
# (git, make, ca-certificates only) made with mmdebstrap and cached.
check-fresh:
	@sh deploy/install-deps.sh fresh
	/usr/bin/python3 deploy/check_fresh.py

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
