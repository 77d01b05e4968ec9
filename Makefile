# ckg — the two commands a newcomer needs are `make demo` and `make test`; both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast bench constraints clean

install: $(STAMP)

# torch first (the CPU build 2.13.0; an unpinned torch pulls GBs of CUDA packages), then the
# project and its dependencies in one pip command, pinned by constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/ckg demo --out demo-data

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not realdata"

bench: install
	$(BIN)/python bench/bench_build.py
	$(BIN)/python bench/bench_embed.py

# Re-pin every dependency after changing pyproject.toml (run on a machine of the CI's kind).
constraints: install
	{ head -3 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==.*/torch==2.13.0/' | sort -f; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) demo-data .pytest_cache
