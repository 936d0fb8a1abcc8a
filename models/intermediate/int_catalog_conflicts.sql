{{ config(materialized='table') }}

{#- Where two catalogs disagree about the same track id: one row per (track_id, catalog_a < catalog_b)
    pair whose best rows (int_catalog_tracks_ranked) differ in at least one field. A field differs when
    both values are present and an audio feature differs by more than 1e-6, or popularity or duration_ms
    differ at all; a value one catalog lacks is missing, not a conflict. Conflicts are counted and
    reported (mart_catalog_conflicts), never averaged: the track takes the winning catalog's values. -#}

{%- set features = audio_features() %}

with

ranked as (

    select * from {{ ref('int_catalog_tracks_ranked') }}

),

pairs as (

    select
        catalog_a.track_id,
        catalog_a.catalog_name as catalog_a,
        catalog_b.catalog_name as catalog_b,
        case
            when catalog_a.catalog_rank < catalog_b.catalog_rank then catalog_a.catalog_name
            else catalog_b.catalog_name
        end as preferred_catalog,
        filter(
            array(
                {%- for feature in features %}
                case when abs(catalog_a.{{ feature }} - catalog_b.{{ feature }}) > 1e-6 then '{{ feature }}' end,
                {%- endfor %}
                case when catalog_a.popularity != catalog_b.popularity then 'popularity' end,
                case when catalog_a.duration_ms != catalog_b.duration_ms then 'duration_ms' end
            ),
            field -> field is not null
        ) as differing_fields
    from ranked as catalog_a
    inner join ranked as catalog_b
        on
            catalog_a.track_id = catalog_b.track_id
            and catalog_a.catalog_name < catalog_b.catalog_name

),

final as (

    select
        track_id,
        catalog_a,
        catalog_b,
        preferred_catalog,
        differing_fields,
        size(differing_fields) as differing_field_count
    from pairs
    where size(differing_fields) > 0

)

select * from final
