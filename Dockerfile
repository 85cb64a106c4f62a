# The pipeline's Airflow image: the official Airflow image plus the pinned project environment.
# Keep the tag equal to the apache-airflow pin in requirements.txt (a test checks it).
FROM apache/airflow:3.3.2-python3.11

USER root
# WeasyPrint (PDF reports) needs Pango and HarfBuzz's font subsetter; fonts for the Indonesian
# reports.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 \
       fonts-dejavu-core \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
USER airflow

WORKDIR /opt/airflow/project
COPY --chown=airflow:root requirements.txt constraints.txt pyproject.toml ./
# Every dependency at the exact version of constraints.txt, as `make venv` installs it.
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY --chown=airflow:root plugins/ plugins/
# The package itself, without touching the pinned dependencies.
RUN pip install --no-cache-dir --no-deps -e . && pip check
COPY --chown=airflow:root dags/ dags/
COPY --chown=airflow:root include/ include/
WORKDIR /opt/airflow
