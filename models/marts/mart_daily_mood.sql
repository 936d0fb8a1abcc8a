{#- Descriptive: one row per listener and listener-local day with plays: the calendar of mood.
    A low-valence day has a mean valence below `low_valence_threshold`; that is a description of
    the music played, not of the person. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

days as (

    select
        user_id,
        local_date,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes,
        count(valence) as plays_with_features,
        avg(valence) as mean_valence,
        avg(energy) as mean_energy,
        avg(case when is_skipped then 1.0 else 0.0 end) as skip_rate
    from plays
    group by user_id, local_date

),

mood_counts as (

    select
        user_id,
        local_date,
        mood_quadrant,
        row_number() over (
            partition by user_id, local_date order by count(*) desc, mood_quadrant
        ) as mood_rank
    from plays
    where mood_quadrant is not null
    group by user_id, local_date, mood_quadrant

),

final as (

    select
        days.user_id,
        days.local_date,
        cast(year(days.local_date) as int) as local_year,
        cast(month(days.local_date) as int) as local_month,
        cast(weekday(days.local_date) + 1 as int) as local_weekday,
        cast(days.plays as int) as plays,
        cast(days.minutes as double) as minutes,
        cast(days.plays_with_features as int) as plays_with_features,
        days.mean_valence,
        days.mean_energy,
        cast(days.skip_rate as double) as skip_rate,
        mood_counts.mood_quadrant as dominant_mood_quadrant,
        coalesce(days.mean_valence < {{ var('low_valence_threshold') }}, false) as is_low_valence_day

    from days
    left join mood_counts
        on
            days.user_id = mood_counts.user_id
            and days.local_date = mood_counts.local_date
            and mood_counts.mood_rank = 1

)

select * from final
