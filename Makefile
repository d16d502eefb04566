# funaudiochat.runpod — developer entry points. Everything runs from ./.venv,
# built from the pinned requirements files; nothing is installed globally
# except the apt packages the sandbox needs (podman, runc, debootstrap).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LINK := .collections/ansible_collections/funaudiochat/runpod
# loadfile: each test file runs in order on one worker (the roles tests build on
# each other). xdist_group marks do not group with pytest 9 and xdist 3.8 (the
# node id suffix they rely on is lost), so files are the unit.
PYTEST_ARGS ?= -n 2 --dist loadfile
# make test leaves out the tests marked slow (test_fleet.py, test_faults_pod.py, two of test_roles.py); make
# test-full runs them too.
PYTEST_MARKERS ?= not slow

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv docs system-deps demo test test-full pytest molecule lint sanity sanity-built dist ee-context \
        benchmark changelog \
        sandbox-image sandbox-up sandbox-down sandbox-clean clean

help:
	@echo "make demo        the main job against the offline sandbox"
	@echo "make venv        virtualenv from requirements-dev.txt + collection link"
	@echo "make test        unit + integration tests, ansible-lint, ansible-test sanity"
	@echo "make test-full   make test plus the slow suites"
	@echo "make benchmark   print the benchmark ratios"
	@echo "make pytest | molecule | lint | sanity | sanity-built | changelog"
	@echo "make dist        build the collection tarball into dist/"
	@echo "make docs        docs/variables.md from the run variables and the roles' argument specs (make test checks it)"
	@echo "make ee-context  dist, then ansible-builder create: the execution environment's build context in context/"
	@echo "make sandbox-up | sandbox-down | sandbox-image | sandbox-clean"
	@echo "make system-deps apt-install podman, runc, debootstrap, ... when missing"

venv: $(VENV)/.installed $(LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../.. $(LINK)

demo: venv system-deps
	bash scripts/demo.sh

system-deps:
	bash scripts/install-system-deps.sh

test: venv system-deps pytest molecule lint sanity sanity-built changelog

test-full:
	$(MAKE) test PYTEST_MARKERS=

# Session fixtures remove their pod containers; the clean afterwards also
# catches what a killed worker left, and keeps pytest's exit status.
pytest: venv system-deps
	$(BIN)/python -m pytest tests/unit tests/api tests/integration -p no:cacheprovider $(PYTEST_ARGS) \
	    $(if $(PYTEST_MARKERS),-m "$(PYTEST_MARKERS)"); \
	status=$$?; $(BIN)/python -m tests.sandbox clean --prefix pytest- >/dev/null; exit $$status

molecule: venv system-deps
	bash scripts/molecule.sh

lint: venv
	$(BIN)/ansible-lint --profile production --offline
	cd $(LINK) && PATH="$(abspath $(BIN)):$$PATH" ANSIBLE_COLLECTIONS_PATH="$(abspath .collections)" \
	    $(abspath $(BIN))/antsibull-docs lint-collection-docs --plugin-docs .

sanity: venv
	VENV=$(CURDIR)/$(VENV) bash scripts/ansible-test-sanity.sh

# ansible-test sanity on the built artifact, installed as users install it.
sanity-built: dist
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(BIN)/ansible-galaxy collection install --force dist/funaudiochat-runpod.tar.gz -p "$$tmp" >/dev/null && \
	SANITY_SOURCE="$$tmp/ansible_collections/funaudiochat/runpod" VENV=$(CURDIR)/$(VENV) bash scripts/ansible-test-sanity.sh

dist: venv
	VENV=$(CURDIR)/$(VENV) bash scripts/build-collection.sh

ee-context: dist
	$(BIN)/ansible-builder create -f execution-environment.yml -c context

benchmark: venv
	$(BIN)/python -m benchmarks

changelog: venv
	$(BIN)/antsibull-changelog lint

docs: venv
	$(BIN)/python scripts/make_docs.py

sandbox-image: venv
	$(BIN)/python -m tests.sandbox image

sandbox-up: venv
	$(BIN)/python -m tests.sandbox up

sandbox-down: venv
	$(BIN)/python -m tests.sandbox down

sandbox-clean: venv
	$(BIN)/python -m tests.sandbox clean

clean:
	rm -rf $(VENV) .collections tests/output .pytest_cache dist context
