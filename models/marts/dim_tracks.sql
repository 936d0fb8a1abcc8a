with

tracks as (

    select * from {{ ref('int_tracks_deduplicated') }}

),

final as (

    select
        track_id,
        track_name,
        artist_names,
        primary_artist_name,
        album_name,
        album_release_year,
        popularity,
        duration_ms,
        is_explicit,
        danceability,
        energy,
        valence,
        acousticness,
        instrumentalness,
        speechiness,
        liveness,
        loudness,
        tempo,
        musical_key,
        musical_mode,
        time_signature,
        primary_genre,
        genres,
        {{ mood_quadrant('valence', 'energy') }} as mood_quadrant

    from tracks

)

select * from final
