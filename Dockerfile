# Airflow with costledger: the official image, the project's hash-locked dependencies, the project.
# Keep the base image's Airflow version equal to the one pinned in requirements.lock.
ARG AIRFLOW_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_IMAGE}

# Dependencies first (cached while only the code changes); --no-deps: the lock is the whole set,
# and its hashes make pip refuse anything else.
COPY --chown=airflow:0 requirements.lock /opt/costledger/src/requirements.lock
RUN pip install --no-cache-dir --no-deps -r /opt/costledger/src/requirements.lock

# The package keeps sql/ and expectations/ beside pipeline/, so import it from this tree (the
# compose file mounts the working copy over it); installing it adds the `costledger` command.
COPY --chown=airflow:0 pyproject.toml README.md /opt/costledger/src/
COPY --chown=airflow:0 pipeline /opt/costledger/src/pipeline
COPY --chown=airflow:0 sql /opt/costledger/src/sql
COPY --chown=airflow:0 expectations /opt/costledger/src/expectations
RUN pip install --no-cache-dir --no-deps /opt/costledger/src
ENV PYTHONPATH=/opt/costledger/src \
    COSTLEDGER_WORKSPACE=/opt/costledger/workspace
