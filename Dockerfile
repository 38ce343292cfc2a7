# Wirehouse production image: the official Airflow image, extended with the project and
# its locked dependencies (see https://airflow.apache.org/docs/docker-stack/build.html).
#
#   docker compose build        # or: docker build -t wirehouse-airflow .
#
# The Airflow version of the base image and the one pinned in uv.lock must be the same
# (3.3.2 today): the install step below pins apache-airflow to the image's version, so a
# lock that asks for another Airflow fails the build instead of silently replacing the
# image's Airflow (which would break the metadata DB migrations the image expects).

# ---------------------------------------------------------------------------------------
# Stage 1: uv.lock -> requirements.txt
# The uv shipped inside the Airflow image may be older than the uv that wrote uv.lock, so
# the export uses a pinned uv in a throw-away virtualenv. Only requirements.txt leaves
# this stage.
# ---------------------------------------------------------------------------------------
FROM apache/airflow:3.3.2-python3.11 AS requirements

ARG UV_VERSION=0.13.9
WORKDIR /tmp/wirehouse
COPY pyproject.toml uv.lock README.md ./
RUN python -m venv /tmp/uv-venv \
    && /tmp/uv-venv/bin/pip install --no-cache-dir "uv==${UV_VERSION}" \
    && /tmp/uv-venv/bin/uv export --frozen --no-dev --no-emit-project --no-hashes \
        --output-file /tmp/wirehouse/requirements.txt

# ---------------------------------------------------------------------------------------
# Stage 2: the runtime image
# ---------------------------------------------------------------------------------------
FROM apache/airflow:3.3.2-python3.11

# The official image installs Python packages as the "airflow" user (never as root).
USER airflow
WORKDIR /opt/airflow

# 1) Locked third-party dependencies. apache-airflow is named with the image's version
#    (AIRFLOW_VERSION is set by the base image) so pip can never up- or downgrade it.
#    The lock holds Airflow's celery and postgres extras (Celery provider, celery, redis,
#    psycopg2, asyncpg): the image runs the versions `make test-deploy` runs natively.
COPY --from=requirements --chown=airflow:0 /tmp/wirehouse/requirements.txt /opt/airflow/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/airflow/requirements.txt \
    && python -c "import os, airflow; v = airflow.__version__; \
assert v == os.environ['AIRFLOW_VERSION'], f'airflow {v} replaced the image airflow'"

# 2) The project itself (include/wirehouse), without touching the dependencies again.
#    Installed in editable mode: the package is imported from /opt/airflow/include, so the
#    ./include bind mount of docker-compose.yaml runs the code that is mounted, not a stale
#    copy baked into site-packages. Without the mount, the copy below is used.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md /opt/airflow/
COPY --chown=airflow:0 include/ /opt/airflow/include/
RUN pip install --no-cache-dir --no-deps --editable /opt/airflow \
    && python -c "import wirehouse"

# 3) DAGs and the dbt project (docker-compose.yaml mounts the working tree over them).
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 dbt_project/ /opt/airflow/dbt_project/

# No usage metrics leave a container started from this image, with or without compose:
# cosmos' telemetry (all three switches cosmos/settings.py reads) and dbt's usage stats.
ENV WIREHOUSE_HOME=/opt/airflow/data \
    WIREHOUSE_SOURCES=/opt/airflow/include/sources.yml \
    DBT_PROFILES_DIR=/opt/airflow/dbt_project \
    AIRFLOW__COSMOS__ENABLE_TELEMETRY=False \
    DO_NOT_TRACK=1 \
    SCARF_NO_ANALYTICS=true \
    DBT_SEND_ANONYMOUS_USAGE_STATS=False

# 4) The manifest cosmos renders the dbt task group from
#    (dbt_project/target/manifest.json). dbt parse reads profiles.yml (which needs
#    WIREHOUSE_HOME) but does not open the DuckDB file.
RUN mkdir -p /opt/airflow/data \
    && cd /opt/airflow/dbt_project \
    && if [ -f packages.yml ] || [ -f dependencies.yml ]; then dbt deps; fi \
    && dbt parse --profiles-dir /opt/airflow/dbt_project --log-path /tmp/dbt-logs \
    && test -s /opt/airflow/dbt_project/target/manifest.json \
    && rm -rf /tmp/dbt-logs
