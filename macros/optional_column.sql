{#- A column that newer loaders add to a Bronze table and older tables may not have yet: the column when
    the relation has it, else a typed null. Bronze tables gain columns by schema evolution, so rows landed
    before the change read null either way; this only keeps a home whose table predates the column
    building. Outside execution (parse, sqlfluff) the column itself is rendered. -#}
{% macro optional_column(relation, column, data_type='string') -%}
    {%- if execute -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower in names -%}
            {{ column }}
        {%- else -%}
            cast(null as {{ data_type }})
        {%- endif -%}
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}
