# medimaging.starviewer: demo lab and tests. `make demo` and `make test` are the two commands README promises.
SHELL := /bin/bash
SVLAB ?= /var/tmp/svlab
REQ_HASH := $(shell sha256sum requirements-dev.txt | cut -c1-12)
VENV ?= $(SVLAB)/venv-$(REQ_HASH)
export PATH := $(VENV)/bin:$(PATH)
export SVLAB
export ANSIBLE_CONFIG := $(CURDIR)/tests/lab/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
DIST := $(SVLAB)/dist
STANDIN_VERSION ?= 2.0.0-CE

.PHONY: deps venv collection standin demo demo-down test lint sanity unit units tooling wine molecule integration \
	package changelog changelog-release clean bench

deps: venv collection
	@command -v debootstrap >/dev/null && command -v update-desktop-database >/dev/null \
	  && command -v shellcheck >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    debootstrap iproute2 openssh-client desktop-file-utils procps shellcheck >/dev/null; }

venv: $(VENV)/.done
$(VENV)/.done: requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

collection:
	@mkdir -p .cache/collections/ansible_collections/medimaging
	@ln -sfn $(CURDIR) .cache/collections/ansible_collections/medimaging/starviewer

standin: $(DIST)/starviewer~$(STANDIN_VERSION)~amd64-ubuntu.deb
$(DIST)/starviewer~%~amd64-ubuntu.deb: tests/fixtures/standin/build-deb.sh $(wildcard tests/fixtures/standin/*)
	bash tests/fixtures/standin/build-deb.sh $* $(DIST) >/dev/null

# The main job on the built-in lab: three workstations, the example hospital inventory, then a per-host summary.
demo: deps standin
	bash tests/lab/lab.sh down demo
	SVLAB_OWN_IP=1 bash tests/lab/lab.sh up demo 3 50 ws-rad-01 ws-rad-02 ws-emerg-01
	bash tests/lab/demo.sh

demo-down:
	bash tests/lab/lab.sh down demo

lint: deps
	ruff check plugins tests tools molecule bench
	ansible-lint
	python tools/role_docs.py --check
	antsibull-changelog lint

# ansible-test from a scratch copy under $(SVLAB) (it needs .../ansible_collections/NS/NAME as its real cwd), with
# its pip bootstrap supplied offline: see tools/ansible_test.sh. Empty tests/sanity/ignore-*.txt on purpose.
sanity: deps
	bash tools/ansible_test.sh sanity

# tests/unit through ansible-test with the venv's Python (the sanity compile test covers 3.9-3.13 for module_utils;
# `bash tools/ansible_test.sh units` without --python runs every version, about 8 minutes).
units: deps
	bash tools/ansible_test.sh units --python 3.11

# The same unit tests with the dev venv's Python only: the quick loop while developing.
unit: deps
	python -m pytest -q -n 2 tests/unit

# Tests of the repository's tooling: role README generator, changelog and galaxy.yml version, execution environment.
tooling: deps
	python -m pytest -q tests/tooling

# Windows code paths with wine as the Windows stand-in (registry import/export, msiexec on a wixl-built MSI) and the
# playbooks with a Windows inventory. No Windows host needed; see tests/wine and molecule/windows for a real one.
wine: deps
	python -m pytest -q -n 2 tests/wine

molecule: deps standin
	STARVIEWER_STANDIN_SHA256=$$(sha256sum $(DIST)/starviewer~$(STANDIN_VERSION)~amd64-ubuntu.deb | cut -d' ' -f1) \
	  molecule test -s ubuntu

integration: deps standin
	python -m pytest -q tests/integration

# Build the collection, install the artefact into an empty collections path and run it on lab host pk-ws-1.
package: deps standin
	python -m pytest -q tests/package

test: lint sanity units tooling wine molecule integration package

# Fleet benchmark (not part of `make test`; about 1.5 h on 2 cores, the stock-module baseline is the slow part): lab hosts
# bench-ws-NN on 127.0.70.N, the example hospital inventory, medians of BENCH_REPS runs for each fleet size in N.
# Writes bench/results.json (other sizes already there are kept), docs/performance.md (measured block) and
# docs/performance.png. matplotlib lives in its own venv.
N ?= 20 50
BENCH_REPS ?= 3
BENCH_BASELINE_RERUN_REPS ?= $(BENCH_REPS)
# Sizes that also get the PACS-list and instrumented runs (default: the first of N; 0: none).
BENCH_DETAIL_N ?=
BENCH_VENV := $(SVLAB)/venv-bench-$(shell sha256sum bench/requirements.txt | cut -c1-12)
$(BENCH_VENV)/.done: bench/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q --disable-pip-version-check -r bench/requirements.txt
	touch $@

bench: deps standin $(BENCH_VENV)/.done
	@command -v strace >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq --no-install-recommends strace >/dev/null; }
	python bench/run.py --n $(N) --reps $(BENCH_REPS) --baseline-rerun-reps $(BENCH_BASELINE_RERUN_REPS) \
	  $(if $(BENCH_DETAIL_N),--detail-n $(BENCH_DETAIL_N)) --plot-python $(BENCH_VENV)/bin/python

# Regenerate CHANGELOG.rst from changelogs/changelog.yaml.
changelog: deps
	antsibull-changelog generate

# Cut the release galaxy.yml names: moves changelogs/fragments into changelogs/changelog.yaml, lists the modules,
# plugins and roles whose version_added is that version, and rewrites CHANGELOG.rst.
changelog-release: deps
	antsibull-changelog release

clean:
	rm -rf .cache tests/output
