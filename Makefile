# ctikernel - quick start: `make run` (build, then the embedded lab) and `make test`.
PY ?= python3
PIP = $(PY) -m pip
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests and benchmarks use as peers and oracles (never runtime deps);
# dahdi-source is listed so that libopenr2 pulls it instead of building dahdi-dkms
APT_PKGS = libspandsp-dev libpri-dev libss7-dev libopenr2-dev dahdi-source tshark espeak-ng sox gcc
PYTEST_ARGS ?= -n 2 -q

.PHONY: run build deps test test-dahdi bench lint clean

build:
	$(PIP) install -q "setuptools>=64" wheel "Cython>=3" "numpy>=1.24"
	$(PY) setup.py -q build_ext --inplace -j 2
	CTI_SKIP_EXT=1 $(PIP) install -q --no-build-isolation -e ".[test]"

run: build
	cti lab

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

lint:
	$(PY) -m ruff check .

test: deps build lint
	$(PY) -m pytest $(PYTEST_ARGS)

# the DAHDI suite inside a QEMU VM running the real DAHDI driver (root, Debian 12 host)
test-dahdi: build
	$(PY) tests/dahdi_vm/vm.py --timeout 900 -- $(PY) -m pytest -q -p no:xdist tests/dahdi_vm/in_vm

bench: deps build
	$(PY) -m pytest benches --benchmark-only -q -p no:xdist -o python_files="bench_*.py"
	cti bench

clean:
	rm -rf build *.egg-info
	find . -name '*.so' -delete
	find core timeslot drivers isdn ss7 r2 cti -name '*.pyx' | sed 's/\.pyx$$/.c/' | xargs rm -f
