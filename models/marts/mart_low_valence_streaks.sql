{#- Runs of at least `low_valence_min_days` consecutive listener-local calendar days that are all
    low-valence days (mart_daily_mood). A day without plays ends a run: we only describe days we
    have music for. Gaps-and-islands: consecutive dates minus their row number share one anchor. -#}

with

days as (

    select * from {{ ref('mart_daily_mood') }}

),

last_active as (

    select
        user_id,
        max(local_date) as last_local_date
    from days
    group by user_id

),

low_days as (

    select
        user_id,
        local_date,
        plays,
        mean_valence,
        date_sub(
            local_date,
            cast(row_number() over (partition by user_id order by local_date) as int)
        ) as island
    from days
    where is_low_valence_day

),

islands as (

    select
        user_id,
        island,
        min(local_date) as started_on,
        max(local_date) as ended_on,
        count(*) as days,
        sum(plays) as plays,
        sum(mean_valence * plays) / sum(plays) as mean_valence,
        min(mean_valence) as min_daily_valence
    from low_days
    group by user_id, island
    having count(*) >= {{ var('low_valence_min_days') }}

),

final as (

    select
        islands.user_id,
        cast(row_number() over (partition by islands.user_id order by islands.started_on) as int) as streak_number,
        islands.started_on,
        islands.ended_on,
        cast(islands.days as int) as days,
        cast(islands.plays as int) as plays,
        cast(islands.mean_valence as double) as mean_valence,
        islands.min_daily_valence,
        islands.ended_on = last_active.last_local_date as is_ongoing

    from islands
    inner join last_active on islands.user_id = last_active.user_id

)

select * from final
