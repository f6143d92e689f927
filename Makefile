# weakcorr: `make report` builds the default report, `make test` runs the tests.
# Every target installs node modules first when they are missing or stale.
EXPERIMENT ?= quick
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
STAGE ?=
WEAKCORR := node bin/weakcorr.js
# EXECUTOR=slurm runs every task as a SLURM batch job (README: Running on a cluster).
EXECUTOR ?=
ifneq ($(EXECUTOR),)
  export WEAKCORR_EXECUTOR := $(EXECUTOR)
endif

# Offline machines: use the shared dataset mirror beside the checkout when nobody chose one.
ifeq ($(WEAKCORR_DATA_MIRROR),)
  ifneq ($(wildcard ../shared/datasets/SHA256SUMS),)
    export WEAKCORR_DATA_MIRROR := $(abspath ../shared/datasets)
  endif
endif

.PHONY: report stage test faults bench dag status clean distclean gpu-check gpu-pack schemas layers

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# `run` ends by printing the published report's path.
report: node_modules/.package-lock.json
	$(WEAKCORR) run --experiment $(EXPERIMENT) --jobs $(JOBS)

# STAGE may name several stages: make stage STAGE="train-a1 train-a2"
stage: node_modules/.package-lock.json
	@test -n "$(STAGE)" || { echo 'usage: make stage STAGE=<fetch|train-a2|train-a2-ntk|train-a1|correlate|train-teacher|train-meanfield|correlate-meanfield|fit|report> [EXPERIMENT=...]' >&2; exit 2; }
	$(WEAKCORR) run $(STAGE) --experiment $(EXPERIMENT) --jobs $(JOBS)

status: node_modules/.package-lock.json
	$(WEAKCORR) status --experiment $(EXPERIMENT)

test: node_modules/.package-lock.json
	npx tsc -p . --noEmit
	npx tsc -p stages/page/client
	npx mocha 'test/**/*.test.ts'

# The fault campaign: stopped and lagging lease holders beside gc, hostile input, signals on a
# 100,000-task grid, a full disk, hostile records, gc beside runs, unusable stores (also in `make test`).
# With root, Debian's slurm packages and no cluster up, it also checks `.ci/slurm.sh up` on stale state.
faults: node_modules/.package-lock.json
	npx mocha test/engine/faults.test.ts test/engine/store-safety.test.ts

bench: node_modules/.package-lock.json
	node --import tsx bench/run.ts

# On a GPU machine: doctor, the A.2 step benchmark and a paper-a2 slice on the best GPU backend
# next to the CPU backend, with the projected GPU-hours of paper-a2 (GPU_CHECK_ARGS=--quick: short).
gpu-check: node_modules/.package-lock.json
	node --import tsx bench/gpu-check.ts $(GPU_CHECK_ARGS)

# dist/gpu-pack: the same check as one folder for air-gapped GPU nodes (no Node.js, npm or network).
gpu-pack: node_modules/.package-lock.json
	node --import tsx tools/gpu-pack.ts --out dist/gpu-pack

# schemas/*.schema.json from the artifact contracts in stages/contracts/ (a test fails when stale).
schemas: node_modules/.package-lock.json
	node --import tsx tools/schemas.ts

# The source tree's layering (docs/architecture.md): imports run down the layers, no circles.
layers: node_modules/.package-lock.json
	node --import tsx tools/layers.ts

dag: node_modules/.package-lock.json
	$(WEAKCORR) dag --experiment $(EXPERIMENT)

# Keeps downloaded datasets (data/raw); distclean removes them too.
clean:
	rm -rf .cache .build reports/*/ test-output dist

distclean: clean
	rm -rf data/raw node_modules
