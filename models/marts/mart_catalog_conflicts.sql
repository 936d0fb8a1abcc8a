{#- Catalog agreement per catalog pair: how many track ids both catalogs list, how many of those they
    disagree on (int_catalog_conflicts: a feature more than 1e-6 apart, popularity or duration not
    equal) and per field, and which catalog the precedence prefers. Disagreements are reported here,
    never averaged into the track. -#}

{%- set fields = audio_features() + ['popularity', 'duration_ms'] %}

with

ranked as (

    select * from {{ ref('int_catalog_tracks_ranked') }}

),

conflicts as (

    select * from {{ ref('int_catalog_conflicts') }}

),

shared as (

    select
        catalog_a.catalog_name as catalog_a,
        catalog_b.catalog_name as catalog_b,
        count(*) as shared_tracks,
        count_if(catalog_a.catalog_rank < catalog_b.catalog_rank) as catalog_a_preferred_tracks,
        count_if(catalog_b.catalog_rank < catalog_a.catalog_rank) as catalog_b_preferred_tracks
    from ranked as catalog_a
    inner join ranked as catalog_b
        on
            catalog_a.track_id = catalog_b.track_id
            and catalog_a.catalog_name < catalog_b.catalog_name
    group by catalog_a.catalog_name, catalog_b.catalog_name

),

conflict_counts as (

    select
        catalog_a,
        catalog_b,
        {%- for field in fields %}
        count_if(array_contains(differing_fields, '{{ field }}')) as {{ field }}_conflicts,
        {%- endfor %}
        count(*) as conflicting_tracks
    from conflicts
    group by catalog_a, catalog_b

),

final as (

    select
        shared.catalog_a,
        shared.catalog_b,
        cast(shared.shared_tracks as int) as shared_tracks,
        cast(coalesce(conflict_counts.conflicting_tracks, 0) as int) as conflicting_tracks,
        cast(coalesce(conflict_counts.conflicting_tracks, 0) / shared.shared_tracks as double) as conflict_share,
        cast(shared.catalog_a_preferred_tracks as int) as catalog_a_preferred_tracks,
        {%- for field in fields %}
        cast(coalesce(conflict_counts.{{ field }}_conflicts, 0) as int) as {{ field }}_conflicts,
        {%- endfor %}
        cast(shared.catalog_b_preferred_tracks as int) as catalog_b_preferred_tracks

    from shared
    left join conflict_counts
        on
            shared.catalog_a = conflict_counts.catalog_a
            and shared.catalog_b = conflict_counts.catalog_b

)

select * from final
