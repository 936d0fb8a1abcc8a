with

source as (

    select * from {{ source('spotify', 'spotify_api_watermarks') }}

),

renamed as (

    select
        user_id,
        after_ms,
        timestamp_millis(after_ms) as after_at,
        newest_played_at as newest_played_at_raw,
        _ingested_at as updated_at

    from source

)

select * from renamed
