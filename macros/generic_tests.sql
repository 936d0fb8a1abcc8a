{#- Generic data tests written here because `dbt deps` cannot reach the package hub. -#}

{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{#- Rows whose value lies outside [min_value, max_value]; nulls pass (use not_null for them). -#}
select *
from {{ model }}
where {{ column_name }} is not null
  and not (
    1 = 1
    {%- if min_value is not none %} and {{ column_name }} {{ '>=' if inclusive else '>' }} {{ min_value }}{% endif %}
    {%- if max_value is not none %} and {{ column_name }} {{ '<=' if inclusive else '<' }} {{ max_value }}{% endif %}
  )
{% endtest %}

{% test unit_interval(model, column_name) %}
{#- Audio features and shares live in [0, 1]. -#}
{{ test_accepted_range(model, column_name, min_value=0, max_value=1) }}
{% endtest %}

{% test row_count_relation(model, compare_model, relation='=', compare_filter='1 = 1') %}
{#- Fails when count(model) <relation> count(compare_model) does not hold, e.g. a deduplicated model
    must not have more rows than its input. -#}
with a as (select count(*) as n from {{ model }}),
b as (select count(*) as n from {{ compare_model }} where {{ compare_filter }})
select a.n as model_rows, b.n as compare_rows
from a cross join b
where not (a.n {{ relation }} b.n)
{% endtest %}

{% test unique_combination(model, combination_of_columns) %}
{#- The listed columns together identify a row. -#}
select {{ combination_of_columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test at_least_rows(model, min_rows=1) %}
{#- A model that must never be empty after a run. -#}
select count(*) as n from {{ model }} having count(*) < {{ min_rows }}
{% endtest %}
