# Superset 6.1.0 with the Trino driver; config and dashboards come from the repo (mounted).
FROM apache/superset:6.1.0
USER root
RUN pip install --no-cache-dir -q trino cachetools "flask-caching<2.5" rich
USER superset
