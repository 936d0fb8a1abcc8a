{{ config(enabled=target.name == 'trino', materialized='view', schema='serving') }}

-- One row per play in the listener's local time. Superset aggregates from here, so the derived
-- columns are the ones charts group by: minutes, a weekday label that sorts Monday first, the year.
with

plays as (
    select * from {{ source('gold_delta', 'fct_plays') }}
),

final as (
    select
        user_id,
        play_id,
        played_at,
        played_at_local,
        local_date,
        local_hour,
        local_weekday,
        cast(local_weekday as varchar) || ' '
        || element_at(array['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'], local_weekday) as weekday_label,
        year(local_date) as local_year,
        daypart,
        track_id,
        track_name,
        artist_name,
        coalesce(genre, 'unknown') as genre,
        ms_played,
        ms_played / 60000.0 as minutes_played,
        completion_ratio,
        is_skipped,
        valence,
        energy,
        danceability,
        acousticness,
        tempo,
        coalesce(mood_quadrant, 'unknown') as mood_quadrant,
        session_id
    from plays
)

select * from final
