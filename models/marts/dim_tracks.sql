with

tracks as (

    select * from {{ ref('int_tracks_deduplicated') }}

),

catalog_rows as (

    select * from {{ ref('stg_catalog__tracks') }}

),

genre_families as (

    select * from {{ ref('genre_families') }}

),

subgenre_ranked as (

    select
        track_id,
        subgenre,
        row_number() over (
            partition by track_id order by count(*) desc, subgenre
        ) as subgenre_rank
    from catalog_rows
    where subgenre is not null
    group by track_id, subgenre

),

subgenres as (

    select
        track_id,
        subgenre as primary_subgenre
    from subgenre_ranked
    where subgenre_rank = 1

),

final as (

    select
        tracks.track_id,
        tracks.track_name,
        tracks.artist_names,
        tracks.primary_artist_name,
        tracks.album_name,
        tracks.album_release_year,
        tracks.popularity,
        tracks.duration_ms,
        tracks.is_explicit,
        tracks.danceability,
        tracks.energy,
        tracks.valence,
        tracks.acousticness,
        tracks.instrumentalness,
        tracks.speechiness,
        tracks.liveness,
        tracks.loudness,
        tracks.tempo,
        tracks.musical_key,
        tracks.musical_mode,
        tracks.time_signature,
        tracks.primary_genre,
        tracks.genres,
        subgenres.primary_subgenre,
        coalesce(genre_families.genre_family, 'other') as genre_family,
        {{ mood_quadrant('tracks.valence', 'tracks.energy') }} as mood_quadrant,
        tracks.feature_source,
        tracks.catalog_names

    from tracks
    left join subgenres on tracks.track_id = subgenres.track_id
    left join genre_families on tracks.primary_genre = genre_families.genre

)

select * from final
