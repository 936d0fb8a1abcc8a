with

source as (

    select * from {{ source('spotify', 'spotify_audio_features') }}

),

renamed as (

    select
        track_id,
        status as lookup_status,
        http_status,
        message as lookup_message,
        {{ renamed_audio_columns() }},
        duration_ms,
        _source_file as source_file,
        _ingested_at as looked_up_at,
        _record_hash as record_hash

    from source

)

select * from renamed
