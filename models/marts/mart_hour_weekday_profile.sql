{#- Descriptive: when a listener listens and how that feels, per listener-local weekday x hour. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

user_totals as (

    select
        user_id,
        count(*) as user_plays
    from plays
    group by user_id

),

cells as (

    select
        user_id,
        local_weekday,
        local_hour,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes,
        sum(case when is_skipped then 1 else 0 end) as skips,
        count(energy) as plays_with_features,
        avg(valence) as mean_valence,
        avg(energy) as mean_energy,
        avg(
            case
                when energy is null then null
                when energy >= {{ var('mood_energy_threshold') }} then 1.0
                else 0.0
            end
        ) as high_energy_share
    from plays
    group by user_id, local_weekday, local_hour

),

final as (

    select
        cells.user_id,
        cast(cells.local_weekday as int) as local_weekday,
        cast(cells.local_hour as int) as local_hour,
        cast(cells.plays as int) as plays,
        cast(cells.minutes as double) as minutes,
        cast(cells.skips as int) as skips,
        cast(cells.skips / cells.plays as double) as skip_rate,
        cast(cells.plays_with_features as int) as plays_with_features,
        cells.mean_valence,
        cells.mean_energy,
        cast(cells.high_energy_share as double) as high_energy_share,
        cast(cells.plays / user_totals.user_plays as double) as share_of_plays

    from cells
    inner join user_totals on cells.user_id = user_totals.user_id

)

select * from final
