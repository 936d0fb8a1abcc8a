{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='play_id',
        file_format='delta',
        post_hook=[
            "merge into {{ this }} as t
            using (
                select play_id
                from {{ ref('int_plays_deduplicated') }}
                where drop_reason is not null and copy_rank = 1
            ) as s
            on t.play_id = s.play_id
            when matched then delete"
        ]
    )
}}

{#- One row per deduplicated music play, matched to the catalog, with listener-local time.
    Incremental: plays not yet in the table plus the last `lookback_days` before the newest play are
    (re)merged; a play that a later load shows to be a duplicate (e.g. an API play once the export
    arrives) is deleted by the post-hook (first copies only: a repeated record shares its play_id
    with the kept copy). A catalog update needs `--full-refresh` to rematch. -#}

with

plays as (

    select * from {{ ref('int_plays_deduplicated') }}
    where drop_reason is null

),

catalog as (

    select * from {{ ref('int_tracks_deduplicated') }}

),

listeners as (

    select * from {{ ref('stg_spotify__listeners') }}

),

{% if is_incremental() %}
existing as (

    select play_id from {{ this }}

),

high_water as (

    select max(ended_at) as max_ended_at from {{ this }}

),
{% endif %}

catalog_by_name as (

    select
        track_id,
        artist_key,
        title_key,
        raw_artist,
        raw_title,
        has_features
    from (
        select
            track_id,
            {{ normalize_name('primary_artist_name') }} as artist_key,
            {{ normalize_name('track_name') }} as title_key,
            lower(trim(primary_artist_name)) as raw_artist,
            lower(trim(track_name)) as raw_title,
            energy is not null and valence is not null as has_features,
            row_number() over (
                partition by
                    {{ normalize_name('primary_artist_name') }},
                    {{ normalize_name('track_name') }}
                order by
                    energy is not null and valence is not null desc,
                    popularity desc nulls last,
                    track_id asc
            ) as name_rank
        from catalog
    )
    where name_rank = 1 and artist_key is not null and title_key is not null

),

new_plays as (

    select plays.*
    from plays
    {% if is_incremental() %}
    left anti join existing on plays.play_id = existing.play_id
    {% endif %}

    {% if is_incremental() %}
    union all

    select plays.*
    from plays
    cross join high_water
    left semi join existing on plays.play_id = existing.play_id
    where plays.ended_at >= high_water.max_ended_at - make_dt_interval({{ var('lookback_days') }})
    {% endif %}

),

matched as (

    select
        new_plays.*,
        by_id.track_id as id_track_id,
        by_id.energy is not null and by_id.valence is not null as id_has_features,
        by_name.track_id as name_track_id,
        by_name.has_features as name_has_features,
        by_name.raw_artist = lower(trim(new_plays.artist_name))
        and by_name.raw_title = lower(trim(new_plays.track_name)) as is_exact_name
    from new_plays
    left join catalog as by_id
        on new_plays.source_track_id = by_id.track_id
    left join catalog_by_name as by_name
        on new_plays.artist_key = by_name.artist_key
            and new_plays.title_key = by_name.title_key

),

localised as (

    select
        matched.*,
        coalesce(listeners.timezone, 'UTC') as listener_timezone,
        from_utc_timestamp(matched.played_at, coalesce(listeners.timezone, 'UTC')) as played_local,
        from_utc_timestamp(matched.ended_at, coalesce(listeners.timezone, 'UTC')) as ended_local
    from matched
    left join listeners on matched.user_id = listeners.user_id

),

final as (

    select
        play_id,
        user_id,
        source,
        coalesce(id_track_id, name_track_id, source_track_id) as track_id,
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
        ms_played < {{ var('short_play_ms') }} as is_short_play,
        case
            when id_track_id is not null then 'track_id'
            when name_track_id is not null then 'artist_title'
            else 'none'
        end as match_method,
        cast(case
            when id_track_id is not null then 1.0
            when name_track_id is not null and is_exact_name then 0.9
            when name_track_id is not null then 0.75
        end as double) as match_confidence,
        coalesce(
            case when id_track_id is not null then id_has_features end,
            case when name_track_id is not null then name_has_features end,
            false
        ) as has_audio_features,
        listener_timezone as timezone,
        played_local as played_at_local,
        ended_local as ended_at_local,
        to_date(played_local) as local_date,
        hour(played_local) as local_hour,
        weekday(played_local) + 1 as local_weekday,
        weekday(played_local) >= 5 as is_weekend
    from localised

)

select * from final
