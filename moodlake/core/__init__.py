"""The lowest layer: settings, paths, the Spark session, jars and Java, dbt invocation, Delta helpers, errors.

Imports nothing from any other Moodlake package."""
