# The two commands that matter: `make run` (the whole platform locally, gateway on :8080) and `make test`.
SHELL := /bin/bash
CONFIGURATION ?= Release

.PHONY: help run stop status rotate-keys create-admin build test chaos security soak test-datatier kind-up images push deploy dev undeploy e2e bench bench-streams

help:
	@echo "make run      start the data tier and the four services (gateway http://localhost:8080)"
	@echo "make stop     stop everything make run started"
	@echo "make status   what runs, where"
	@echo "make create-admin EMAIL=…  make EMAIL an admin (password from PLATFORM_ADMIN_PASSWORD or stdin)"
	@echo "make rotate-keys  rotate the running platform's signing key (publish, activate, retire, remove: ~85 s)"
	@echo "make test     build and run every test suite (real PostgreSQL, Redis, RabbitMQ)"
	@echo "make chaos    fault drills under load (stops and SIGKILLs of Redis, replica, RabbitMQ, primary, a service; the primary's disk full; the outbox across a broker outage) → docs/reliability.md"
	@echo "make security attacks (refresh reuse, enumeration, brute force, IDOR, files, CORS, headers, forged tokens) and the bad-input corpus → docs/reliability.md"
	@echo "make soak     leak hunt, not in CI: the platform on ports of its own under steady mixed load for SOAK_MINUTES (30), sampling every process's memory, fds, threads, TCP connections; the services' live heaps dumped after the warm-up and at the end"
	@echo "make build    build the solution ($(CONFIGURATION))"
	@echo "make kind-up  create the kind cluster (kind-config.yaml) with ingress-nginx"
	@echo "make images   build the five images (Dockerfile) as platform-<name>:$(IMAGE_TAG)"
	@echo "make push REGISTRY=host[:port]/path  build them and push them as \$$REGISTRY/platform-<name>:\$$PUSH_TAG (default $(PUSH_TAG), the charts' appVersion)"
	@echo "make deploy   load the images into kind and helm-install the operator and the platform"
	@echo "make dev      skaffold dev against the kind cluster (rebuild and redeploy on change; gateway on :8080)"
	@echo "make undeploy uninstall both releases"
	@echo "make e2e      helm test and the cluster tests of tests/Platform.Deploy.Tests against the kind cluster"
	@echo "make bench    load scenarios and their report in bench/results/ (BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SCENARIOS)"
	@echo "make bench-streams  the gateway's memory per idle event stream (BENCH_STREAMS=1000)"

run:
	@scripts/platform.sh up

stop:
	@scripts/platform.sh down

status:
	@scripts/platform.sh status

rotate-keys:
	@scripts/platform.sh rotate-keys

# The password is read from PLATFORM_ADMIN_PASSWORD or stdin; there is no default.
create-admin:
	@scripts/platform.sh create-admin "$(EMAIL)"

build:
	dotnet build Platform.sln -c $(CONFIGURATION) -warnaserror -nologo

test:
	@scripts/test.sh

# The long reliability suites (tests/Platform.Reliability.Tests), skipped by make test; each rewrites docs/reliability.md from the last runs.
RELIABILITY := dotnet test tests/Platform.Reliability.Tests -c Debug --nologo --logger "console;verbosity=normal"

chaos:
	dotnet build tests/Platform.Reliability.Tests -c Debug -warnaserror -nologo -v:q -clp:ErrorsOnly
	dotnet build Platform.Run.slnf -c Debug -warnaserror -nologo -v:q -clp:ErrorsOnly
	$(RELIABILITY) --no-build --filter 'FullyQualifiedName~.Chaos.'; status=$$?; scripts/reliability-report.sh; exit $$status

security:
	dotnet build tests/Platform.Reliability.Tests -c Debug -warnaserror -nologo -v:q -clp:ErrorsOnly
	dotnet build Platform.Run.slnf -c Debug -warnaserror -nologo -v:q -clp:ErrorsOnly
	$(RELIABILITY) --no-build --filter 'FullyQualifiedName~.Security.|FullyQualifiedName~BadInputTests'; status=$$?; scripts/reliability-report.sh; exit $$status

# Not in CI: SOAK_MINUTES (default 30) of steady mixed load on a platform of its own; a table per process of memory, fds,
# threads, TCP connections and the services' live heaps (dotnet-gcdump) against the bounds at the head of scripts/soak.sh (exit 1 when one is exceeded).
soak:
	@scripts/soak.sh

# --- Kubernetes (README "Kubernetes"): need Docker, kind, kubectl, helm, skaffold; each target says which is missing.
KIND_CLUSTER ?= platform
KUBE_CONTEXT ?= kind-$(KIND_CLUSTER)
NAMESPACE ?= platform
IMAGE_TAG ?= dev
INGRESS_NGINX_MANIFEST ?= https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.11.3/deploy/static/provider/kind/deploy.yaml
# The charts' images default to their appVersion; push a new build under a new PUSH_TAG (e.g. the commit), since
# nodes never pull a tag again, and install it with global.imageTag.
PUSH_TAG ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$$/\1/p' charts/platform/Chart.yaml)
IMAGES := gateway:services/Platform.Gateway auth:services/Platform.Auth tasks:services/Platform.Tasks files:services/Platform.Files operator:operator/Platform.Operator
require = @for tool in $(1); do command -v $$tool >/dev/null || { echo "make $@: '$$tool' is not installed (needed: $(1))" >&2; exit 1; }; done

kind-up:
	$(call require,kind kubectl docker)
	@kind get clusters | grep -qx '$(KIND_CLUSTER)' || kind create cluster --name '$(KIND_CLUSTER)' --config kind-config.yaml
	kubectl --context '$(KUBE_CONTEXT)' apply -f '$(INGRESS_NGINX_MANIFEST)'
	kubectl --context '$(KUBE_CONTEXT)' -n ingress-nginx wait pod --for=condition=Ready \
	  --selector=app.kubernetes.io/component=controller --timeout=300s

images:
	$(call require,docker)
	@docker info >/dev/null 2>&1 || { echo "make images: the Docker daemon does not answer (docker info)" >&2; exit 1; }
	@for entry in $(IMAGES); do \
	  name=$${entry%%:*}; project=$${entry#*:}; \
	  echo "=== platform-$$name ($$project)"; \
	  docker build --build-arg PROJECT=$$project -t platform-$$name:$(IMAGE_TAG) . || exit 1; \
	done

# REGISTRY is checked before anything is built, so `make push` without it fails at once and changes nothing.
ifneq ($(filter push,$(MAKECMDGOALS)),)
ifeq ($(strip $(REGISTRY)),)
$(error make push: set REGISTRY to the registry to push to, e.g. make push REGISTRY=registry.example.com/platform (then install with --set global.imageRegistry=<the same>))
endif
endif

push:
	$(call require,docker)
	@$(MAKE) --no-print-directory images IMAGE_TAG='$(IMAGE_TAG)'
	@for entry in $(IMAGES); do \
	  image=platform-$${entry%%:*}; target='$(REGISTRY)'/$$image:'$(PUSH_TAG)'; \
	  echo "=== $$target"; \
	  docker tag $$image:$(IMAGE_TAG) $$target && docker push $$target || exit 1; \
	done
	@echo "Pushed. Install with: helm install platform charts/platform --set global.imageRegistry=$(REGISTRY) --set global.imageTag=$(PUSH_TAG)"

deploy: images
	$(call require,kind helm kubectl)
	@for entry in $(IMAGES); do kind load docker-image --name '$(KIND_CLUSTER)' platform-$${entry%%:*}:$(IMAGE_TAG) || exit 1; done
	helm upgrade --install platform-operator charts/platform-operator --kube-context '$(KUBE_CONTEXT)' -n '$(NAMESPACE)' \
	  --create-namespace -f charts/platform-operator/values-kind.yaml --set global.imageTag=$(IMAGE_TAG) --wait --timeout 5m
	helm upgrade --install platform charts/platform --kube-context '$(KUBE_CONTEXT)' -n '$(NAMESPACE)' \
	  -f charts/platform/values-kind.yaml --set global.imageTag=$(IMAGE_TAG) --wait --timeout 10m

dev:
	$(call require,skaffold kind helm kubectl docker)
	skaffold dev --profile kind --kube-context '$(KUBE_CONTEXT)' --port-forward

undeploy:
	$(call require,helm)
	helm uninstall platform platform-operator --kube-context '$(KUBE_CONTEXT)' -n '$(NAMESPACE)' --wait

e2e:
	$(call require,helm kubectl dotnet)
	helm test platform --kube-context '$(KUBE_CONTEXT)' -n '$(NAMESPACE)' --logs
	PLATFORM_KUBE_CONTEXT='$(KUBE_CONTEXT)' PLATFORM_KUBE_NAMESPACE='$(NAMESPACE)' \
	  dotnet test tests/Platform.Deploy.Tests --nologo --filter 'Category=Cluster'
bench:
	@bench/run.sh

bench-streams:
	@bench/streams.sh
