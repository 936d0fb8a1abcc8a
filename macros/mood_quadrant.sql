{#- Russell's circumplex read through Spotify's valence (pleasure) and energy (arousal).
    Thresholds are project vars so dbt and ml/ share one definition. -#}
{% macro mood_quadrant(valence_col, energy_col) -%}
    case
        when {{ valence_col }} is null or {{ energy_col }} is null then null
        when {{ valence_col }} >= {{ var('mood_valence_threshold') }} and {{ energy_col }} >= {{ var('mood_energy_threshold') }} then 'happy_energetic'
        when {{ valence_col }} >= {{ var('mood_valence_threshold') }} then 'calm_content'
        when {{ energy_col }} >= {{ var('mood_energy_threshold') }} then 'tense_angry'
        else 'sad_low'
    end
{%- endmacro %}
