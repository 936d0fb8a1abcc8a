-- Every day inside a low-valence streak is a low-valence day of the same listener in the calendar,
-- and a streak is at least low_valence_min_days long.
with

streaks as (

    select * from {{ ref('mart_low_valence_streaks') }}

),

days as (

    select * from {{ ref('mart_daily_mood') }}

),

covered as (

    select
        streaks.user_id,
        streaks.streak_number,
        streaks.days,
        count(days.local_date) as low_days
    from streaks
    left join days
        on
            streaks.user_id = days.user_id
            and days.local_date between streaks.started_on and streaks.ended_on
            and days.is_low_valence_day
    group by streaks.user_id, streaks.streak_number, streaks.days

)

select * from covered
where low_days <> days or days < {{ var('low_valence_min_days') }}
