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

.PHONY: deps venv collection standin demo demo-down test lint unit molecule integration clean

deps: venv collection
	@command -v debootstrap >/dev/null && command -v update-desktop-database >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    debootstrap iproute2 openssh-client desktop-file-utils procps >/dev/null; }

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
	ruff check plugins tests
	ansible-lint
	python tools/role_docs.py --check

unit: deps
	python -m pytest -q -n 2 tests/unit

molecule: deps standin
	STARVIEWER_STANDIN_SHA256=$$(sha256sum $(DIST)/starviewer~$(STANDIN_VERSION)~amd64-ubuntu.deb | cut -d' ' -f1) \
	  molecule test -s ubuntu

integration: deps standin
	python -m pytest -q tests/integration

test: lint unit molecule integration

clean:
	rm -rf .cache tests/output
