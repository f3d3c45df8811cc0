# The two commands that matter: `make run` (the whole platform locally, gateway on :8080) and `make test`.
SHELL := /bin/bash
CONFIGURATION ?= Release

.PHONY: help run stop status build test test-datatier bench

help:
	@echo "make run      start the data tier and the four services (gateway http://localhost:8080)"
	@echo "make stop     stop everything make run started"
	@echo "make status   what runs, where"
	@echo "make test     build and run every test suite (real PostgreSQL, Redis, RabbitMQ)"
	@echo "make build    build the solution ($(CONFIGURATION))"
	@echo "make bench    load scenarios and their report in bench/results/ (BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SCENARIOS)"

run:
	@scripts/platform.sh up

stop:
	@scripts/platform.sh down

status:
	@scripts/platform.sh status

build:
	dotnet build Platform.sln -c $(CONFIGURATION) -warnaserror -nologo

test:
	@scripts/test.sh

bench:
	@bench/run.sh
