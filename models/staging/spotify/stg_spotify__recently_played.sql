with

source as (

    select * from {{ source('spotify', 'spotify_recently_played') }}

),

renamed as (

    select
        user_id,
        track_id as source_track_id,
        track_uri,
        track_name,
        from_json(artist_names, 'array<string>')[0] as artist_name,
        from_json(artist_names, 'array<string>') as artist_names,
        album_name,
        album_id,
        duration_ms,
        popularity,
        explicit as is_explicit,
        is_local,
        isrc,
        context_type,
        context_uri,
        played_at as played_at_raw,
        -- the API's played_at is the END of the play (measured, docs/INGESTION.md); the API gives
        -- no ms_played, so the start is estimated from the track length
        cast(played_at as timestamp) as ended_at,
        timestamp_millis(unix_millis(cast(played_at as timestamp)) - coalesce(duration_ms, 0)) as played_at,
        response_href,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at,
        _record_hash as record_hash

    from source

)

select * from renamed
