{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='play_id',
        file_format='delta',
        on_schema_change='fail',
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

    The matching ladder, first rung that holds wins; every play carries its rung in `match_level` and
    where its features come from in `feature_source`:
      1. track_id   - the source's track id is a catalog track id (feature_source = the catalog that won
                      the id in int_tracks_deduplicated);
      2. track_name - normalised artist + normalised title (normalize_artist / normalize_title) equal a
                      catalog track's title and ANY of its credited artists. Several candidates: the one
                      with audio features first, then the play's artist as the primary (first) artist,
                      then the same title before normalisation (a live play prefers the live recording),
                      then popularity, then track id (feature_source = that track's catalog);
      3. artist     - no track, but the normalised artist has an estimate in int_artist_features
                      (feature_source = 'artist_estimate');
      4. unknown    - nothing (feature_source null).
    Only the two track rungs set track_id and the track feature columns (has_audio_features; fct_plays'
    valence, energy, ...). The artist estimate goes to the separate artist_est_* columns, filled for every
    play whose artist has one, whatever its rung, so an analysis has to ask for it by name.
    `match_method` / `match_confidence` are the older two-rung view of the same match (kept for readers).

    Incremental: plays not yet in the table plus the last `lookback_days` before the newest play are
    (re)merged; a play that a later load shows to be a duplicate (e.g. an API play once the export
    arrives) is deleted by the post-hook (first copies only: a repeated record shares its play_id
    with the kept copy). A catalog update needs `--full-refresh` to rematch. -#}

{%- set features = audio_features() %}

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

artists as (

    select * from {{ ref('int_artist_features') }}

),

catalog_credits as (

    select
        track_id,
        track_name,
        feature_source,
        has_audio_features,
        popularity,
        posexplode(transform(split(artist_names, ';'), artist -> trim(artist))) as (artist_position, credited_artist)
    from catalog

),

catalog_by_name as (

    select
        track_id,
        feature_source,
        has_audio_features,
        popularity,
        artist_position = 0 as is_primary_artist,
        lower(trim(credited_artist)) as raw_artist,
        lower(trim(track_name)) as raw_title,
        {{ normalize_artist('credited_artist') }} as artist_key,
        {{ normalize_title('track_name') }} as title_key
    from catalog_credits

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

name_candidates as (

    select
        new_plays.play_id,
        catalog_by_name.track_id,
        catalog_by_name.feature_source,
        catalog_by_name.has_audio_features,
        catalog_by_name.raw_artist = lower(trim(new_plays.artist_name))
        and catalog_by_name.raw_title = lower(trim(new_plays.track_name)) as is_exact_name,
        row_number() over (
            partition by new_plays.play_id
            order by
                catalog_by_name.has_audio_features desc,
                catalog_by_name.is_primary_artist desc,
                catalog_by_name.raw_title = lower(trim(new_plays.track_name)) desc,
                catalog_by_name.popularity desc nulls last,
                catalog_by_name.track_id asc
        ) as candidate_rank
    from new_plays
    inner join catalog_by_name
        on
            new_plays.artist_key = catalog_by_name.artist_key
            and new_plays.title_key = catalog_by_name.title_key

),

by_name as (

    select * from name_candidates
    where candidate_rank = 1

),

matched as (

    select
        new_plays.*,
        by_id.track_id as id_track_id,
        by_id.has_audio_features as id_has_features,
        by_id.feature_source as id_feature_source,
        by_name.track_id as name_track_id,
        by_name.has_audio_features as name_has_features,
        by_name.feature_source as name_feature_source,
        by_name.is_exact_name,
        {%- for feature in features %}
        artists.{{ feature }} as artist_est_{{ feature }},
        {%- endfor %}
        artists.n_tracks as artist_est_tracks
    from new_plays
    left join catalog as by_id
        on new_plays.source_track_id = by_id.track_id
    left join by_name
        on new_plays.play_id = by_name.play_id
    left join artists
        on new_plays.artist_key = artists.artist_key

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
        case
            when id_track_id is not null then 'track_id'
            when name_track_id is not null then 'track_name'
            when artist_est_tracks is not null then 'artist'
            else 'unknown'
        end as match_level,
        case
            when id_track_id is not null then id_feature_source
            when name_track_id is not null then name_feature_source
            when artist_est_tracks is not null then 'artist_estimate'
        end as feature_source,
        {%- for feature in features %}
        artist_est_{{ feature }},
        {%- endfor %}
        artist_est_tracks,
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
