# The two commands that matter: `make run` (the whole platform locally, gateway on :8080) and `make test`.
SHELL := /bin/bash
CONFIGURATION ?= Release

.PHONY: help run stop status rotate-keys build test test-datatier

help:
	@echo "make run      start the data tier and the four services (gateway http://localhost:8080)"
	@echo "make stop     stop everything make run started"
	@echo "make status   what runs, where"
	@echo "make rotate-keys  rotate the running platform's signing key (publish, activate, retire, remove: ~85 s)"
	@echo "make test     build and run every test suite (real PostgreSQL, Redis, RabbitMQ)"
	@echo "make build    build the solution ($(CONFIGURATION))"

run:
	@scripts/platform.sh up

stop:
	@scripts/platform.sh down

status:
	@scripts/platform.sh status

rotate-keys:
	@scripts/platform.sh rotate-keys

build:
	dotnet build Platform.sln -c $(CONFIGURATION) -warnaserror -nologo

test:
	@scripts/test.sh
