with

source as (

    select * from {{ source('catalog', 'catalog_tracks') }}

),

renamed as (

    select
        track_id,
        track_name,
        artists as artist_names,
        trim(split(artists, ';')[0]) as primary_artist_name,
        album_name,
        album_id,
        album_release_date,
        cast(left(album_release_date, 4) as int) as album_release_year,
        popularity,
        duration_ms,
        explicit as is_explicit,
        danceability,
        energy,
        key as musical_key,
        loudness,
        mode as musical_mode,
        speechiness,
        acousticness,
        instrumentalness,
        liveness,
        valence,
        tempo,
        time_signature,
        lower(trim(genre)) as genre,
        lower(trim(subgenre)) as subgenre,
        playlist_name,
        playlist_id,
        source_layout,
        _source_file as source_file,
        _ingested_at as ingested_at,
        _record_hash as record_hash

    from source

)

select * from renamed
