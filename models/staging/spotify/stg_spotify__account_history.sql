with

source as (

    select * from {{ source('spotify', 'spotify_account_history') }}

),

renamed as (

    select
        user_id,
        content_type,
        track_name,
        artist_name,
        podcast_name,
        episode_name,
        end_time as ended_at_raw,
        to_timestamp(end_time, 'yyyy-MM-dd HH:mm') as ended_at,
        timestamp_millis(
            unix_millis(to_timestamp(end_time, 'yyyy-MM-dd HH:mm')) - ms_played
        ) as played_at,
        ms_played,
        _source_file as source_file,
        _line as source_line,
        _ingested_at as ingested_at,
        _record_hash as record_hash

    from source

)

select * from renamed
