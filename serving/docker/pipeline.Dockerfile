# Moodlake's Python side (Spark pipeline, ML, registration + dbt-trino publish step).
FROM python:3.11-slim-bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir -q -c constraints.txt -e . && moodlake setup
ENV MOODLAKE_HOME=/moodlake
