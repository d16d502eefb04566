# funaudiochat.runpod — developer entry points. Everything runs from ./.venv,
# built from the pinned requirements files; nothing is installed globally
# except the apt packages the sandbox needs (podman, runc, debootstrap).

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LINK := .collections/ansible_collections/funaudiochat/runpod
PYTEST_ARGS ?= -n 2

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help venv demo test test-full pytest lint sanity benchmark changelog clean

help:
	@echo "make demo        the main job against the offline sandbox"
	@echo "make venv        virtualenv from requirements-dev.txt + collection link"
	@echo "make test        unit + integration tests, ansible-lint, ansible-test sanity"
	@echo "make test-full   make test plus the slow suites"
	@echo "make benchmark   print the benchmark ratios"
	@echo "make pytest | lint | sanity | changelog"

venv: $(VENV)/.installed $(LINK)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(LINK):
	mkdir -p $(dir $(LINK))
	ln -sfn ../../.. $(LINK)

demo: venv
	bash scripts/demo.sh

test: venv pytest lint sanity changelog

test-full: test

pytest: venv
	$(BIN)/python -m pytest tests/unit tests/integration -p no:cacheprovider $(PYTEST_ARGS)

lint: venv
	$(BIN)/ansible-lint --profile production --offline

sanity: venv
	VENV=$(CURDIR)/$(VENV) bash scripts/ansible-test-sanity.sh

benchmark: venv
	$(BIN)/python -m benchmarks

changelog: venv
	$(BIN)/antsibull-changelog lint

clean:
	rm -rf $(VENV) .collections tests/output .pytest_cache
