{{ config(materialized='table') }}

with

catalog_rows as (

    select * from {{ ref('stg_kaggle__catalog_tracks') }}

),

genre_counts as (

    select
        track_id,
        genre,
        count(*) as genre_rows
    from catalog_rows
    where genre is not null
    group by track_id, genre

),

genre_ranked as (

    select
        *,
        row_number() over (partition by track_id order by genre_rows desc, genre asc) as genre_rank
    from genre_counts

),

genres as (

    select
        track_id,
        sort_array(collect_list(genre)) as genres,
        max(case when genre_rank = 1 then genre end) as primary_genre
    from genre_ranked
    group by track_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by track_id
            order by ingested_at desc, record_hash asc
        ) as row_rank
    from catalog_rows

),

latest as (

    select * from ranked
    where row_rank = 1

),

final as (

    select
        latest.track_id,
        latest.track_name,
        latest.artist_names,
        latest.primary_artist_name,
        latest.album_name,
        latest.album_release_year,
        latest.popularity,
        latest.duration_ms,
        latest.is_explicit,
        latest.danceability,
        latest.energy,
        latest.musical_key,
        latest.loudness,
        latest.musical_mode,
        latest.speechiness,
        latest.acousticness,
        latest.instrumentalness,
        latest.liveness,
        latest.valence,
        latest.tempo,
        latest.time_signature,
        genres.primary_genre,
        coalesce(genres.genres, array()) as genres,
        latest.source_layout,
        latest.ingested_at

    from latest
    left join genres on latest.track_id = genres.track_id

)

select * from final
