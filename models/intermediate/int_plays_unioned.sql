{{ config(materialized='view') }}

with

extended as (

    select * from {{ ref('stg_spotify__extended_history') }}
    where content_type = 'music'

),

account as (

    select * from {{ ref('stg_spotify__account_history') }}
    where content_type = 'music'

),

api as (

    select * from {{ ref('stg_spotify__recently_played') }}
    where source_track_id is not null or track_name is not null

),

extended_plays as (

    select
        user_id,
        'export_extended' as source,
        1 as source_priority,
        concat_ws('|', track_uri, ended_at_raw, cast(ms_played as string)) as source_key,
        source_track_id,
        track_name,
        artist_name,
        album_name,
        played_at,
        ended_at,
        ms_played,
        platform,
        reason_start,
        reason_end,
        is_skipped,
        is_shuffle,
        is_offline,
        conn_country,
        ingested_at,
        record_hash
    from extended

),

account_plays as (

    select
        user_id,
        'export_account' as source,
        2 as source_priority,
        concat_ws('|', artist_name, track_name, ended_at_raw, cast(ms_played as string)) as source_key,
        cast(null as string) as source_track_id,
        track_name,
        artist_name,
        cast(null as string) as album_name,
        played_at,
        ended_at,
        ms_played,
        cast(null as string) as platform,
        cast(null as string) as reason_start,
        cast(null as string) as reason_end,
        -- account data has no skip flag: a play under the short-play threshold counts as skipped
        ms_played < {{ var('short_play_ms') }} as is_skipped,
        cast(null as boolean) as is_shuffle,
        cast(null as boolean) as is_offline,
        cast(null as string) as conn_country,
        ingested_at,
        record_hash
    from account

),

api_plays as (

    select
        user_id,
        'api' as source,
        3 as source_priority,
        concat_ws('|', coalesce(source_track_id, track_name), played_at_raw) as source_key,
        source_track_id,
        track_name,
        artist_name,
        album_name,
        played_at,
        ended_at,
        coalesce(duration_ms, 0) as ms_played,
        cast(null as string) as platform,
        cast(null as string) as reason_start,
        cast(null as string) as reason_end,
        false as is_skipped,
        cast(null as boolean) as is_shuffle,
        cast(null as boolean) as is_offline,
        cast(null as string) as conn_country,
        ingested_at,
        record_hash
    from api

),

unioned as (

    select * from extended_plays
    union all
    select * from account_plays
    union all
    select * from api_plays

),

final as (

    select
        substr(sha2(concat_ws('|', user_id, source, source_key), 256), 1, 32) as play_id,
        user_id,
        source,
        source_priority,
        source_key,
        source_track_id,
        track_name,
        artist_name,
        album_name,
        {{ normalize_artist('artist_name') }} as artist_key,
        {{ normalize_title('track_name') }} as title_key,
        played_at,
        ended_at,
        ms_played,
        platform,
        reason_start,
        reason_end,
        is_skipped,
        is_shuffle,
        is_offline,
        conn_country,
        ingested_at,
        record_hash
    from unioned

)

select * from final
