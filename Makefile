# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# One entry point: make, make test, make demo, make bench, make install.
# Objects go to $(OUTPUT); V=1 shows full commands; SAN=1 builds userspace
# and tests with ASan+UBSan (never the BPF objects).

OUTPUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed 's/x86_64/x86/' | sed 's/aarch64/arm64/')

ifeq ($(V),1)
	Q =
	msg =
else
	Q = @
	msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# The weft binary is linked with link-time optimization: the analysis'
# hot calls cross files (the wait table, the histograms, the wait-for
# graph), and inlined they take 10% off a report (make bench). Fat objects
# keep the ordinary code too, which the tests and bench programs link.
ifeq ($(SAN),1)
	OBJDIR := $(OUTPUT)/san
	SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
	LTO_CFLAGS :=
	LTO_LDFLAGS :=
else
	OBJDIR := $(OUTPUT)
	SAN_FLAGS :=
	LTO_CFLAGS := -flto=auto -ffat-lto-objects
	LTO_LDFLAGS := -flto=auto -O2
endif

WARNINGS := -Wall -Wextra -Werror
CFLAGS := -g -O2 $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Ibpf -Iuserspace \
	$(SAN_FLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SAN_FLAGS) $(EXTRA_LDFLAGS)
LDLIBS := -lbpf -lelf -lz -lpthread -lm -ldl

# weft-work and the bench workloads keep whole frame-pointer stacks: gcc 12
# drops leaf frames even with -mno-omit-leaf-frame-pointer, clang keeps them.
WORK_CC := $(CLANG)
WORK_CFLAGS := -g -O2 $(WARNINGS) -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer \
	-mno-omit-leaf-frame-pointer -Iworkloads $(SAN_FLAGS) $(EXTRA_CFLAGS)

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS := $(wildcard userspace/*.c)
USER_OBJS := $(patsubst userspace/%.c,$(OBJDIR)/obj/userspace/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OBJDIR)/obj/userspace/main.o,$(USER_OBJS))

WORK_SRCS := $(wildcard workloads/*.c)
WORK_OBJS := $(patsubst workloads/%.c,$(OBJDIR)/obj/workloads/%.o,$(WORK_SRCS))
WORK_LIB_OBJS := $(filter-out $(OBJDIR)/obj/workloads/main.o,$(WORK_OBJS))

BENCH_SRCS := $(wildcard workloads/bench/*.c)
BENCH_BINS := $(patsubst workloads/bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRCS))

# The bench's own measuring programs: the floor tracer (floor.bpf.c's
# skeleton) and a reader that only inflates a recording
BENCH_TOOLS := $(OUTPUT)/bench/floor $(OUTPUT)/bench/inflate_only

TEST_SRCS := $(wildcard tests/test_*.c)
TEST_BINS := $(patsubst tests/%.c,$(OBJDIR)/tests/%,$(TEST_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(OUTPUT)/tests/helpers/%,$(TEST_HELPER_SRCS))
# C++ helpers (mangled names to demangle), built with g++
TEST_HELPER_CXX_SRCS := $(wildcard tests/helpers/*.cc)
TEST_HELPERS += $(patsubst tests/helpers/%.cc,$(OUTPUT)/tests/helpers/%,$(TEST_HELPER_CXX_SRCS))
CXX := g++

# make install PREFIX=/usr/local DESTDIR=: weft in bin, weft-work out of
# PATH in libexec/weft (weft finds it there from its own location), man
# pages, bash and zsh completion, the user docs.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
LIBEXECDIR := $(PREFIX)/libexec/weft
MANDIR := $(PREFIX)/share/man/man1
DOCDIR := $(PREFIX)/share/doc/weft
BASHCOMPDIR := $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR := $(PREFIX)/share/zsh/site-functions

# One man page per command, made by help2man from the command's own --help
# (so the two cannot drift) and docs/man/PAGE.h2m, which adds what --help
# leaves out: exit status, privileges, files. header-col=0 puts argp's
# option groups at column 0, where help2man makes them subsections.
MAN_COMMANDS := record report compare flame timeline pprof diff critical stuck
MAN_PAGES := $(OUTPUT)/man/weft.1 $(patsubst %,$(OUTPUT)/man/weft-%.1,$(MAN_COMMANDS)) \
	$(OUTPUT)/man/weft-work.1
DOCS := README.md $(wildcard docs/*.md)
DOC_IMAGES := $(wildcard docs/img/*.png)
HELP2MAN := ARGP_HELP_FMT=header-col=0 help2man --no-info --section=1 --manual="weft manual"

.PHONY: all deps test unit-tests san-tests integration-tests demo bench bench-smoke clean format \
	format-check man install uninstall fuzz fuzz-build

all: deps-checked $(OUTPUT)/weft $(OUTPUT)/weft-work $(BENCH_BINS) $(TEST_HELPERS) man

# scripts/deps.sh installs only what is missing; the stamp keeps repeated
# makes from asking dpkg each time.
deps-checked: $(OUTPUT)/.deps-ok
$(OUTPUT)/.deps-ok: scripts/deps.sh | $(OUTPUT)
	$(Q)scripts/deps.sh
	$(Q)touch $@
deps:
	$(Q)scripts/deps.sh

$(OUTPUT) $(OUTPUT)/bench $(OUTPUT)/tests/helpers $(OBJDIR)/obj/userspace $(OBJDIR)/obj/workloads \
$(OBJDIR)/tests $(OUTPUT)/man:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT) $(OUTPUT)/.deps-ok
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# -MMD: a BPF object depends on every header it includes (events.h,
# unwind.h, ...), as the userspace objects do.
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUTPUT) -Ibpf \
		-MMD -MP -MF $(OUTPUT)/$*.bpf.d -MT $@ -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Only the sources that include a skeleton wait for it (the first build
# needs it before -MMD has seen the include)
SKEL_USERS := $(patsubst userspace/%.c,$(OBJDIR)/obj/userspace/%.o,\
	$(shell grep -l '\.skel\.h' userspace/*.c))
$(SKEL_USERS): $(SKELS)

$(OBJDIR)/obj/userspace/%.o: userspace/%.c | $(OBJDIR)/obj/userspace $(OUTPUT)/.deps-ok
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LTO_CFLAGS) -MMD -MP -c $< -o $@

$(OBJDIR)/libweft.a: $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJDIR)/weft: $(OBJDIR)/obj/userspace/main.o $(OBJDIR)/libweft.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $(LTO_LDFLAGS) $^ $(LDLIBS) -o $@

$(OBJDIR)/obj/workloads/%.o: workloads/%.c | $(OBJDIR)/obj/workloads $(OUTPUT)/.deps-ok
	$(call msg,CC,$@)
	$(Q)$(WORK_CC) $(WORK_CFLAGS) -MMD -MP -c $< -o $@

$(OBJDIR)/libwork.a: $(WORK_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OBJDIR)/weft-work: $(OBJDIR)/obj/workloads/main.o $(OBJDIR)/libwork.a
	$(call msg,LINK,$@)
	$(Q)$(WORK_CC) $(LDFLAGS) $^ -lpthread -lm -o $@

$(OUTPUT)/bench/%: workloads/bench/%.c | $(OUTPUT)/bench $(OUTPUT)/.deps-ok
	$(call msg,CC,$@)
	$(Q)$(WORK_CC) $(WORK_CFLAGS) $< -lpthread -o $@

# Programs that integration tests trace: built like the workloads, with
# frame pointers, so their stacks are whole.
$(OUTPUT)/tests/helpers/%: tests/helpers/%.c $(wildcard tests/helpers/*.h) | $(OUTPUT)/tests/helpers \
		$(OUTPUT)/.deps-ok
	$(call msg,CC,$@)
	$(Q)$(WORK_CC) $(WORK_CFLAGS) $< -lpthread -o $@

$(OUTPUT)/tests/helpers/%: tests/helpers/%.cc | $(OUTPUT)/tests/helpers $(OUTPUT)/.deps-ok
	$(call msg,CXX,$@)
	$(Q)$(CXX) -g -O2 -Wall -Wextra -Werror -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
		$(SAN_FLAGS) $(EXTRA_CFLAGS) $< -o $@

$(OBJDIR)/tests/test_%: tests/test_%.c $(wildcard tests/*.h tests/helpers/*.h tests/unwind/*.h) \
		$(OBJDIR)/libweft.a $(OBJDIR)/libwork.a | $(OBJDIR)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(CFLAGS) -Iworkloads -Itests $< $(OBJDIR)/libweft.a $(OBJDIR)/libwork.a \
		$(LDFLAGS) $(LDLIBS) -lcmocka -o $@

man: $(MAN_PAGES)

# The version comes from the binary, as the rest of the page does.
$(OUTPUT)/man/weft.1: $(OUTPUT)/weft docs/man/weft.h2m | $(OUTPUT)/man
	$(call msg,MAN,$@)
	$(Q)$(HELP2MAN) --include=docs/man/weft.h2m \
		--version-string="$$($(OUTPUT)/weft --version)" --output=$@ $(OUTPUT)/weft

# --help says how many CPUs "here" has: the build machine's, not the reader's.
$(OUTPUT)/man/weft-work.1: $(OUTPUT)/weft-work $(OUTPUT)/weft docs/man/weft-work.h2m | $(OUTPUT)/man
	$(call msg,MAN,$@)
	$(Q)$(HELP2MAN) --include=docs/man/weft-work.h2m \
		--version-string="weft-work $$($(OUTPUT)/weft --version | cut -d' ' -f2)" \
		--output=$@.tmp $(OUTPUT)/weft-work
	$(Q)sed 's/CPUs, [0-9]* here;/CPUs;/' $@.tmp > $@ && rm -f $@.tmp

$(OUTPUT)/man/weft-%.1: $(OUTPUT)/weft docs/man/weft-%.h2m | $(OUTPUT)/man
	$(call msg,MAN,$@)
	$(Q)$(HELP2MAN) --include=docs/man/weft-$*.h2m --help-option="$* --help" \
		--version-string="weft-$* $$($(OUTPUT)/weft --version | cut -d' ' -f2)" \
		--output=$@ $(OUTPUT)/weft

# The pages name installed paths as @PREFIX@, filled in here so that one
# build installs under any PREFIX. The docs keep their layout (README.md,
# docs/*.md) so that their relative links still resolve.
install: $(OUTPUT)/weft $(OUTPUT)/weft-work $(MAN_PAGES)
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR) \
		$(DESTDIR)$(DOCDIR)/docs $(DESTDIR)$(DOCDIR)/docs/img $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR)
	$(Q)install -m 0755 $(OUTPUT)/weft $(DESTDIR)$(BINDIR)/weft
	$(Q)install -m 0755 $(OUTPUT)/weft-work $(DESTDIR)$(LIBEXECDIR)/weft-work
	$(Q)for page in $(MAN_PAGES); do \
		sed 's|@PREFIX@|$(PREFIX)|g' $$page > $(DESTDIR)$(MANDIR)/$${page##*/} && \
		chmod 0644 $(DESTDIR)$(MANDIR)/$${page##*/} || exit 1; \
	done
	$(Q)install -m 0644 scripts/completion/weft.bash $(DESTDIR)$(BASHCOMPDIR)/weft
	$(Q)install -m 0644 scripts/completion/_weft $(DESTDIR)$(ZSHCOMPDIR)/_weft
	$(Q)install -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(Q)install -m 0644 $(filter docs/%,$(DOCS)) $(DESTDIR)$(DOCDIR)/docs/
	$(Q)install -m 0644 $(DOC_IMAGES) $(DESTDIR)$(DOCDIR)/docs/img/

# Removes what install put there, and the folders that are weft's own.
uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(BINDIR)/weft $(DESTDIR)$(LIBEXECDIR)/weft-work \
		$(patsubst $(OUTPUT)/man/%,$(DESTDIR)$(MANDIR)/%,$(MAN_PAGES)) \
		$(DESTDIR)$(BASHCOMPDIR)/weft $(DESTDIR)$(ZSHCOMPDIR)/_weft \
		$(patsubst %,$(DESTDIR)$(DOCDIR)/%,$(DOCS) $(DOC_IMAGES))
	$(Q)rmdir $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DOCDIR)/docs/img $(DESTDIR)$(DOCDIR)/docs \
		$(DESTDIR)$(DOCDIR) 2>/dev/null || true

unit-tests: deps-checked $(TEST_BINS)
	$(Q)scripts/run-unit-tests.sh $(OBJDIR)/tests

san-tests: deps-checked
	$(Q)$(MAKE) --no-print-directory SAN=1 unit-tests

integration-tests: all
	$(Q)scripts/run-integration-tests.sh $(OUTPUT)

test: all
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory unit-tests
	$(Q)$(MAKE) --no-print-directory san-tests
	$(Q)$(MAKE) --no-print-directory integration-tests
	$(Q)$(MAKE) --no-print-directory bench-smoke
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

# libFuzzer over the whole read path (tests/fuzz_read.c): the userspace
# objects again with clang's fuzzer coverage, ASan and UBSan, in their own
# folder; scripts/fuzz.sh seeds it from real recordings and runs it for
# FUZZ_SECONDS.
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 $(WARNINGS) -Wno-gnu-variable-sized-type-not-at-end -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Ibpf -Iuserspace $(FUZZ_SAN)
FUZZ_OBJS := $(patsubst userspace/%.c,$(FUZZ_DIR)/obj/%.o,$(filter-out userspace/main.c,$(USER_SRCS)))

$(FUZZ_DIR)/obj:
	$(Q)mkdir -p $@

$(FUZZ_DIR)/obj/%.o: userspace/%.c $(SKELS) | $(FUZZ_DIR)/obj $(OUTPUT)/.deps-ok
	$(call msg,FUZZCC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_DIR)/fuzz_read: tests/fuzz_read.c $(FUZZ_OBJS)
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

$(FUZZ_DIR)/fuzz_seed: tests/fuzz_seed.c $(OBJDIR)/libweft.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDFLAGS) $(LDLIBS) -o $@

fuzz-build: all $(FUZZ_DIR)/fuzz_read $(FUZZ_DIR)/fuzz_seed

fuzz: fuzz-build
	$(Q)scripts/fuzz.sh $(OUTPUT) $(FUZZ_SECONDS)

demo: all
	$(Q)scripts/demo.sh $(OUTPUT)

$(OUTPUT)/bench/floor: tests/bench/floor.c $(OUTPUT)/floor.skel.h | $(OUTPUT)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) -O2 $(WARNINGS) -D_GNU_SOURCE -Ibpf -I$(OUTPUT) $< -lbpf -lelf -lz -o $@

$(OUTPUT)/bench/inflate_only: tests/bench/inflate_only.c $(OBJDIR)/libweft.a | $(OUTPUT)/bench
	$(call msg,BENCH,$@)
	$(Q)$(CC) -O2 $(WARNINGS) -D_GNU_SOURCE -Iuserspace -Ibpf -I$(OUTPUT) $< $(OBJDIR)/libweft.a \
		$(LDLIBS) -o $@

bench: all $(BENCH_TOOLS)
	$(Q)scripts/bench.sh $(OUTPUT)

bench-smoke: all $(BENCH_TOOLS)
	$(Q)scripts/bench.sh --smoke $(OUTPUT)

FORMATTED := $(wildcard bpf/*.c bpf/*.h userspace/*.c userspace/*.h workloads/*.c workloads/*.h \
	workloads/bench/*.c tests/*.c tests/*.h tests/helpers/*.c tests/helpers/*.cc tests/helpers/*.h tests/bench/*.c \
	tests/symbols/*.c tests/unwind/*.c tests/unwind/*.h)

format:
	$(Q)clang-format -i $(FORMATTED)

# Every C file as .clang-format writes it (make test runs it first)
format-check: deps-checked
	$(Q)clang-format --dry-run -Werror $(FORMATTED) && echo "format-check: $(words $(FORMATTED)) files formatted"

clean:
	$(Q)rm -rf $(OUTPUT)

.DELETE_ON_ERROR:
.SECONDARY:

-include $(wildcard $(OBJDIR)/obj/*/*.d $(OUTPUT)/*.bpf.d)
-include $(wildcard $(FUZZ_DIR)/obj/*.d)
