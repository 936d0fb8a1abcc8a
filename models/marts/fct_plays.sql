{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='play_id',
        file_format='delta',
        on_schema_change='fail',
        post_hook=[
            "merge into {{ this }} as modelled
            using (
                select modelled.play_id
                from {{ this }} as modelled
                left anti join {{ ref('int_plays_matched') }} as matched
                    on modelled.play_id = matched.play_id
            ) as gone
            on modelled.play_id = gone.play_id
            when matched then delete"
        ],
    )
}}

{#- One row per deduplicated music play, enriched with the track's features, the listener-local
    daypart, a gap-based session and the mood quadrant. The feature columns (valence, energy, ...,
    mood_quadrant) are the matched TRACK's (match_level track_id or track_name) and null otherwise;
    the artist-level estimate is only in artist_est_* (see int_plays_matched for the ladder).

    Incremental: each run re-reads a listener's plays from `lookback_days` before the latest play
    already modelled, or from the earliest play not modelled yet if that is older (a re-requested
    export can bring old plays), and merges them on play_id; plays that Silver no longer has (a
    later load showed them to be duplicates) are deleted by the post-hook. Sessions that started
    before that window are continued, not restarted: the last modelled play before the window
    carries its session_id into the gap computation, so an incremental run gives the same session
    ids as a full refresh. -#}

with

matched_plays as (

    select * from {{ ref('int_plays_matched') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

dayparts as (

    select * from {{ ref('dayparts') }}

),

{% if is_incremental() %}

modelled_bounds as (

    select
        user_id,
        max(played_at) - make_dt_interval({{ var('lookback_days') }}) as lookback_at
    from {{ this }}
    group by user_id

),

unseen_bounds as (

    select
        matched_plays.user_id,
        min(matched_plays.played_at) as first_unseen_at
    from matched_plays
    left anti join {{ this }} as modelled on matched_plays.play_id = modelled.play_id
    group by matched_plays.user_id

),

high_water as (

    select
        modelled_bounds.user_id,
        least(
            modelled_bounds.lookback_at,
            coalesce(unseen_bounds.first_unseen_at, modelled_bounds.lookback_at)
        ) as cutoff_at
    from modelled_bounds
    left join unseen_bounds on modelled_bounds.user_id = unseen_bounds.user_id

),

plays as (

    select matched_plays.*
    from matched_plays
    left join high_water on matched_plays.user_id = high_water.user_id
    where
        high_water.cutoff_at is null
        or matched_plays.played_at >= high_water.cutoff_at

),

carried as (

    select
        modelled.user_id,
        cast(null as string) as play_id,
        modelled.played_at,
        modelled.ended_at,
        modelled.session_id as carried_session_id
    from {{ this }} as modelled
    inner join high_water
        on
            modelled.user_id = high_water.user_id
            and modelled.played_at < high_water.cutoff_at
    qualify row_number() over (
            partition by modelled.user_id
            order by modelled.played_at desc, modelled.play_id desc
        ) = 1

),

{% else %}

plays as (

    select * from matched_plays

),

{% endif %}

timeline as (

    select
        user_id,
        play_id,
        played_at,
        ended_at,
        cast(null as string) as carried_session_id
    from plays
    {% if is_incremental() %}

    union all

    select
        user_id,
        play_id,
        played_at,
        ended_at,
        carried_session_id
    from carried
    {% endif %}

),

gaps as (

    select
        *,
        lag(ended_at) over (
            partition by user_id order by played_at, play_id
        ) as previous_ended_at
    from timeline

),

session_starts as (

    select
        *,
        case
            when carried_session_id is not null then carried_session_id
            when
                previous_ended_at is null
                or played_at > previous_ended_at + make_dt_interval(0, 0, {{ var('session_gap_minutes') }})
                then md5(concat_ws('|', 'session', user_id, play_id))
        end as session_key
    from gaps

),

sessionised as (

    select
        play_id,
        last(session_key, true) over (
            partition by user_id
            order by played_at, play_id
            rows between unbounded preceding and current row
        ) as session_id
    from session_starts

),

final as (

    select
        plays.play_id,
        plays.user_id,
        plays.source,
        plays.track_id,
        plays.source_track_id,
        plays.track_name,
        plays.artist_name,
        plays.album_name,
        cast(plays.played_at as timestamp) as played_at,
        cast(plays.ended_at as timestamp) as ended_at,
        cast(plays.ms_played as bigint) as ms_played,
        plays.platform,
        plays.reason_start,
        plays.reason_end,
        cast(plays.is_skipped as boolean) as is_skipped,
        cast(plays.is_shuffle as boolean) as is_shuffle,
        cast(plays.is_offline as boolean) as is_offline,
        plays.conn_country,
        cast(plays.is_short_play as boolean) as is_short_play,
        plays.match_method,
        cast(plays.match_confidence as double) as match_confidence,
        cast(plays.has_audio_features as boolean) as has_audio_features,
        plays.timezone,
        cast(plays.played_at_local as timestamp) as played_at_local,
        cast(plays.ended_at_local as timestamp) as ended_at_local,
        cast(plays.local_date as date) as local_date,
        cast(plays.local_hour as int) as local_hour,
        cast(plays.local_weekday as int) as local_weekday,
        cast(plays.is_weekend as boolean) as is_weekend,
        dayparts.daypart,
        sessionised.session_id,
        tracks.primary_genre as genre,
        tracks.primary_subgenre as subgenre,
        tracks.genre_family,
        tracks.valence,
        tracks.energy,
        tracks.danceability,
        tracks.acousticness,
        tracks.instrumentalness,
        tracks.speechiness,
        tracks.liveness,
        tracks.loudness,
        tracks.tempo,
        tracks.popularity,
        tracks.duration_ms,
        cast(
            case
                when tracks.duration_ms > 0 then least(plays.ms_played / tracks.duration_ms, 1.0)
            end as double
        ) as completion_ratio,
        tracks.mood_quadrant,
        plays.match_level,
        plays.feature_source,
        {%- for feature in audio_features() %}
        cast(plays.artist_est_{{ feature }} as double) as artist_est_{{ feature }},
        {%- endfor %}
        cast(plays.artist_est_tracks as int) as artist_est_tracks

    from plays
    inner join sessionised on plays.play_id = sessionised.play_id
    left join tracks on plays.track_id = tracks.track_id
    left join dayparts on plays.local_hour = dayparts.local_hour

)

select * from final
