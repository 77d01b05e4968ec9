# ckg serve in a container: the same install as `make install` (torch's CPU build first, then the
# project pinned by constraints.txt), the store on a volume. Build a store first, on the host or
# in the container:
#   docker build -t ckg .
#   docker run --rm -v ckg-data:/data ckg ckg build --store /data/store --cord19 /data/cord19
#   docker run --rm -p 8000:8000 -v ckg-data:/data ckg
# The pages' vendored browser libraries (Swagger UI, ECharts, DataTables), the versions `make
# webassets` installs, fetched at image build time (the pages fetch nothing at run time).
FROM node:22-slim AS webassets
RUN npm install --prefix /web --no-audit --no-fund --loglevel=error \
    swagger-ui-dist@5.35.0 echarts@6.1.0 datatables.net@3.1.2 datatables.net-dt@3.1.2

FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 CKG_STORE=/data/store CKG_HOST=0.0.0.0 CKG_PORT=8000
WORKDIR /opt/ckg
COPY pyproject.toml constraints.txt README.md ./
COPY ckg ckg
COPY etl etl
COPY server server
COPY queries queries
COPY ontology ontology
COPY embed embed
COPY search search
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install -c constraints.txt .
COPY --from=webassets /web/node_modules /usr/local/node/node_modules
RUN useradd --create-home --uid 1000 ckg && mkdir -p /data && chown ckg /data
USER ckg
VOLUME ["/data"]
EXPOSE 8000
CMD ["ckg", "serve", "--store", "/data/store", "--host", "0.0.0.0", "--port", "8000"]
