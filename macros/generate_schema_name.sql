{#- Schemas are the layers themselves (bronze, silver, gold, serving), as Spark and Trino name them,
    not dbt's default `<target_schema>_<custom>` concatenation. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
