with

source as (

    select * from {{ source('spotify', 'spotify_extended_history') }}

),

renamed as (

    select
        user_id,
        content_type,
        key_set,
        spotify_track_uri as track_uri,
        case
            when spotify_track_uri like 'spotify:track:%'
                then substr(spotify_track_uri, 15)
        end as source_track_id,
        master_metadata_track_name as track_name,
        master_metadata_album_artist_name as artist_name,
        master_metadata_album_album_name as album_name,
        spotify_episode_uri as episode_uri,
        episode_name,
        episode_show_name as show_name,
        audiobook_uri,
        audiobook_title,
        audiobook_chapter_title,
        ts as ended_at_raw,
        cast(ts as timestamp) as ended_at,
        timestamp_millis(unix_millis(cast(ts as timestamp)) - ms_played) as played_at,
        ms_played,
        platform,
        conn_country,
        reason_start,
        reason_end,
        shuffle as is_shuffle,
        coalesce(skipped, reason_end in ('fwdbtn', 'backbtn'), false) as is_skipped,
        offline as is_offline,
        -- newer exports give epoch seconds, legacy endsong files epoch milliseconds; 0 means none
        case
            when offline_timestamp is null or offline_timestamp <= 0 then null
            when offline_timestamp > 100000000000 then timestamp_millis(offline_timestamp)
            else timestamp_seconds(offline_timestamp)
        end as offline_at,
        incognito_mode as is_incognito,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at,
        _record_hash as record_hash

    from source

)

select * from renamed
