{{ config(materialized='table') }}

{#- One row per track id over every catalog. The features, names and popularity are the winning
    catalog's row (int_catalog_tracks_ranked, catalog_rank = 1: most non-null audio features, then the
    newest load, then catalog_name ascending), named in `feature_source`; nothing is averaged across
    catalogs. `genres` is the union of every catalog's genres for the id; `primary_genre` is the winning
    catalog's most frequent genre for it. Disagreements between catalogs: int_catalog_conflicts. -#}

with

ranked as (

    select * from {{ ref('int_catalog_tracks_ranked') }}

),

across_catalogs as (

    select
        track_id,
        sort_array(array_distinct(flatten(collect_list(genres)))) as genres,
        sort_array(array_distinct(flatten(collect_list(artist_genres)))) as artist_genres,
        sort_array(collect_list(catalog_name)) as catalog_names
    from ranked
    group by track_id

),

winners as (

    select * from ranked
    where catalog_rank = 1

),

final as (

    select
        winners.track_id,
        winners.track_name,
        winners.artist_names,
        winners.primary_artist_name,
        winners.album_name,
        winners.album_release_year,
        winners.popularity,
        winners.duration_ms,
        winners.is_explicit,
        winners.danceability,
        winners.energy,
        winners.musical_key,
        winners.loudness,
        winners.musical_mode,
        winners.speechiness,
        winners.acousticness,
        winners.instrumentalness,
        winners.liveness,
        winners.valence,
        winners.tempo,
        winners.time_signature,
        winners.primary_genre,
        across_catalogs.genres,
        winners.source_layout,
        winners.ingested_at,
        winners.catalog_name as feature_source,
        across_catalogs.catalog_names,
        across_catalogs.artist_genres,
        winners.energy is not null and winners.valence is not null as has_audio_features

    from winners
    inner join across_catalogs on winners.track_id = across_catalogs.track_id

)

select * from final
