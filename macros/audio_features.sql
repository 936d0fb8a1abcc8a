{#- The audio features every analysis iterates over, defined once as dbt vars in dbt_project.yml
    (`audio_unit_features`, `audio_scaled_features`). `unit_features` live in [0, 1] and can be compared
    with a Euclidean distance; loudness and tempo have their own scales. -#}
{% macro unit_features() -%}
    {{ return(var('audio_unit_features')) }}
{%- endmacro %}

{% macro audio_features() -%}
    {{ return(var('audio_unit_features') + var('audio_scaled_features')) }}
{%- endmacro %}

{#- The Spotify audio columns as Moodlake names them, for a staging model's select list: the features
    above plus `key`/`mode` renamed (both are SQL words) and `time_signature`. One place for the renames
    that every source of audio features (catalogs, the API) shares. -#}
{% macro renamed_audio_columns() -%}
    {%- for feature in audio_features() %}
        {{ feature }},
    {%- endfor %}
        key as musical_key,
        mode as musical_mode,
        time_signature
{%- endmacro %}

{#- `stack(n, 'name', column, ...)`: one row per feature, columns (feature, feature_value). -#}
{% macro unpivot_features(features) -%}
    stack(
        {{ features | length }},
        {%- for feature in features %}
        '{{ feature }}', cast({{ feature }} as double){{ ',' if not loop.last }}
        {%- endfor %}
    ) as (feature, feature_value)
{%- endmacro %}

{#- 95% confidence interval of a Pearson r via Fisher's z: tanh(atanh(r) +/- 1.96 / sqrt(n - 3));
    null when n <= 3 or |r| = 1 (the transform is undefined there). -#}
{% macro fisher_ci(r, n, side) -%}
    case
        when {{ n }} > 3 and abs({{ r }}) < 1
            then tanh(atanh({{ r }}) {{ '-' if side == 'low' else '+' }} 1.959964 / sqrt({{ n }} - 3))
    end
{%- endmacro %}
