{#- One row per gap-based listening session (see fct_plays for the gap rule). Rebuilt in full from
    fct_plays each run: a late play can merge or split sessions, and a session table is small. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

dayparts as (

    select * from {{ ref('dayparts') }}

),

session_totals as (

    select
        session_id,
        user_id,
        min(played_at) as started_at,
        max(ended_at) as ended_at,
        min_by(played_at_local, played_at) as started_at_local,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes,
        count(valence) as plays_with_features,
        sum(case when is_skipped then 1 else 0 end) as skips,
        avg(valence) as mean_valence,
        avg(energy) as mean_energy
    from plays
    group by session_id, user_id

),

mood_counts as (

    select
        session_id,
        mood_quadrant,
        row_number() over (
            partition by session_id order by count(*) desc, mood_quadrant
        ) as mood_rank
    from plays
    where mood_quadrant is not null
    group by session_id, mood_quadrant

),

dominant_moods as (

    select
        session_id,
        mood_quadrant as dominant_mood_quadrant
    from mood_counts
    where mood_rank = 1

),

final as (

    select
        session_totals.session_id,
        session_totals.user_id,
        session_totals.started_at,
        session_totals.ended_at,
        session_totals.started_at_local,
        cast(session_totals.started_at_local as date) as local_date,
        dayparts.daypart,
        cast(session_totals.plays as int) as plays,
        cast(session_totals.plays_with_features as int) as plays_with_features,
        cast(session_totals.skips as int) as skips,
        cast(session_totals.minutes as double) as minutes,
        session_totals.mean_valence,
        session_totals.mean_energy,
        session_totals.mean_energy >= {{ var('mood_energy_threshold') }} as is_high_energy,
        dominant_moods.dominant_mood_quadrant

    from session_totals
    left join dominant_moods on session_totals.session_id = dominant_moods.session_id
    left join dayparts on hour(session_totals.started_at_local) = dayparts.local_hour

)

select * from final
