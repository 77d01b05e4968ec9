# ckg — the two commands a newcomer needs are `make demo` and `make test`; both install first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

DEMO_PORT ?= 8000

.PHONY: install browser virtuoso jena comunica webassets demo test test-fast bench bench-parts constraints clean

install: $(STAMP) browser virtuoso jena comunica webassets

# torch first (the CPU build 2.13.0; an unpinned torch pulls GBs of CUDA packages), then the
# project and its dependencies in one pip command, pinned by constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,ray]'
	touch $(STAMP)

# Debian's Chromium, for the test that drives the query page in a headless browser. Installed when
# missing and possible (root and apt-get); without it the install goes on and that test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    timeout 900 apt-get install -y -qq chromium >/dev/null 2>&1 || \
	      { timeout 300 apt-get update -qq >/dev/null 2>&1 && timeout 900 apt-get install -y -qq chromium >/dev/null 2>&1; } || \
	      echo "could not install chromium: the browser test will be skipped"; \
	  else \
	    echo "chromium is not installed (installing it needs root and apt-get): the browser test will be skipped"; \
	  fi; }

# Debian's Virtuoso 7.2 (virtuoso-t, isql-vt), the engine the benchmarks and tests/test_virtuoso.py compare
# ckg with. Installed when missing and possible (root and apt-get), without the recommended VAD packages;
# the package's own service is not started (the benchmarks run private instances on free loopback ports).
# Without it the install goes on and the Virtuoso tests and comparisons are skipped.
virtuoso:
	@command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's virtuoso-opensource for the ckg/Virtuoso comparisons (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    timeout 900 apt-get install -y -qq --no-install-recommends virtuoso-opensource >/dev/null 2>&1 || \
	      { timeout 300 apt-get update -qq >/dev/null 2>&1 && \
	        timeout 900 apt-get install -y -qq --no-install-recommends virtuoso-opensource >/dev/null 2>&1; } || \
	      echo "could not install virtuoso-opensource: the Virtuoso tests and comparisons will be skipped"; \
	  else \
	    echo "Virtuoso is not installed (installing it needs root and apt-get): the Virtuoso tests and comparisons will be skipped"; \
	  fi; }

# Debian's Apache Jena 4.5 (libapache-jena-java; ARQ), for tests/test_engines.py: Jena queries ckg through
# SERVICE. Installed when missing and possible (root and apt-get); the test is skipped without it.
jena:
	@test -f /usr/share/java/jena-cmds.jar || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's libapache-jena-java for the Jena tests (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    timeout 900 apt-get install -y -qq --no-install-recommends libapache-jena-java >/dev/null 2>&1 || \
	      { timeout 300 apt-get update -qq >/dev/null 2>&1 && \
	        timeout 900 apt-get install -y -qq --no-install-recommends libapache-jena-java >/dev/null 2>&1; } || \
	      echo "could not install libapache-jena-java: the Jena tests will be skipped"; \
	  else \
	    echo "Jena is not installed (installing it needs root and apt-get): the Jena tests will be skipped"; \
	  fi; }

# Comunica 4 (npm's @comunica/query-sparql) in $(VENV)/node, for tests/test_engines.py; needs node and npm
# (the test is skipped, saying why, without them).
COMUNICA := $(VENV)/node/node_modules/.bin/comunica-sparql
comunica:
	@test -x $(COMUNICA) || { \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "installing Comunica (npm @comunica/query-sparql@4) into $(VENV)/node"; \
	    timeout 900 npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error @comunica/query-sparql@4 >/dev/null 2>&1 || \
	      echo "could not install Comunica: its test will be skipped"; \
	  else \
	    echo "npm is not installed: the Comunica test will be skipped"; \
	  fi; }

# The pages' vendored libraries, from npm into $(VENV)/node (the server finds them there, no setting; nothing
# is fetched from a CDN at run time): Swagger UI (swagger-ui-dist) for /api/docs, ECharts (echarts) for the
# charts of the entity pages and of the query page's results, and DataTables (datatables.net, no jQuery since
# version 3; its stylesheet is datatables.net-dt) for the query page's results: sort, filter, pages. Needs npm;
# without them /api/docs answers 503 saying so, the charts say the library is not installed and the query page
# shows its results in a plain paged table (the pages still work).
SWAGGER_UI := swagger-ui-dist@5.35.0
ECHARTS    := echarts@6.1.0
DATATABLES := datatables.net@3.1.2 datatables.net-dt@3.1.2
WEB_NODE   := $(VENV)/node/node_modules
webassets:
	@test -f $(WEB_NODE)/swagger-ui-dist/swagger-ui-bundle.js && test -f $(WEB_NODE)/echarts/dist/echarts.min.js && \
	  test -f $(WEB_NODE)/datatables.net/js/dataTables.min.js && \
	  test -f $(WEB_NODE)/datatables.net-dt/css/dataTables.dataTables.min.css || { \
	  if command -v npm >/dev/null 2>&1; then \
	    echo "installing $(SWAGGER_UI), $(ECHARTS) and $(DATATABLES) (npm) into $(VENV)/node for /api/docs, the charts and the query page"; \
	    timeout 900 npm install --prefix $(VENV)/node --no-audit --no-fund --loglevel=error $(SWAGGER_UI) $(ECHARTS) $(DATATABLES) >/dev/null 2>&1 || \
	      echo "could not install swagger-ui-dist, echarts and datatables.net: /api/docs, the charts and the query page will say so"; \
	  else \
	    echo "npm is not installed: /api/docs, the charts and the query page's table will say their libraries are missing"; \
	  fi; }

# Build, update and show the demo graph, then serve it on http://127.0.0.1:$(DEMO_PORT)/ (Ctrl-C stops).
demo: install
	$(BIN)/ckg demo --out demo-data
	$(BIN)/ckg serve --store demo-data/store --host 127.0.0.1 --port $(DEMO_PORT)

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not realdata"

# The scale benchmark (bench/scale.py): build, update, memory, store size, every named query on ckg and on
# Virtuoso, the endpoint under load, FAISS exact/approximate, training throughput; tables on stdout, JSON
# and PNG curves in bench/out/. BENCH_PAPERS=100k,1M for the full run (hours; see README "Scale");
# BENCH_ARGS passes other options (python bench/scale.py --help).
BENCH_PAPERS ?= 2k,10k
BENCH_ARGS ?=
bench: install
	$(BIN)/python bench/scale.py --papers $(BENCH_PAPERS) $(BENCH_ARGS)

# The component benchmarks, each against its own baseline.
bench-parts: install
	$(BIN)/python bench/bench_build.py
	$(BIN)/python bench/bench_reading.py
	$(BIN)/python bench/bench_server.py
	$(BIN)/python bench/bench_concepts.py --build
	$(BIN)/python bench/bench_embed.py
	$(BIN)/python bench/bench_citations.py

# Re-pin every dependency after changing pyproject.toml (run on a machine of the CI's kind).
constraints: install
	{ head -3 constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==.*/torch==2.13.0/' | sort -f; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) demo-data .pytest_cache
