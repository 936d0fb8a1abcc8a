"""Serving: Trino over the Spark-written Delta tables, dbt-trino serving views, Superset dashboards.

Everything here runs on the one machine and binds to 127.0.0.1. Servers are fetched once into
``settings.cache_dir`` (Maven Central for Trino, PyPI for Superset) and configured under
``$MOODLAKE_HOME`` so that several homes (e.g. tests) can run side by side on different ports.
"""
