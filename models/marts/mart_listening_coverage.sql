{#- Coverage as an output: how much of each listener's year the catalog explains, per rung of the
    matching ladder (match_level). One row per listener, listener-local year and level; all four levels
    are present, zero-filled, so shares of a listener-year add up to 1. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

levels as (

    select
        match_level,
        level_order
    from values
        ('track_id', 1),
        ('track_name', 2),
        ('artist', 3),
        ('unknown', 4) as levels (match_level, level_order)

),

level_totals as (

    select
        user_id,
        year(local_date) as local_year,
        match_level,
        count(*) as plays,
        sum(ms_played) as ms_played,
        count_if(has_audio_features) as plays_with_track_features
    from plays
    group by user_id, year(local_date), match_level

),

listener_years as (

    select
        user_id,
        local_year,
        sum(plays) as year_plays,
        sum(ms_played) as year_ms_played
    from level_totals
    group by user_id, local_year

),

grid as (

    select
        listener_years.*,
        levels.match_level,
        levels.level_order
    from listener_years
    cross join levels

),

final as (

    select
        grid.user_id,
        cast(grid.local_year as int) as local_year,
        grid.match_level,
        cast(grid.level_order as int) as level_order,
        cast(coalesce(level_totals.plays, 0) as int) as plays,
        cast(coalesce(level_totals.ms_played, 0) / 60000.0 as double) as minutes,
        cast(coalesce(level_totals.plays_with_track_features, 0) as int) as plays_with_track_features,
        cast(coalesce(level_totals.plays, 0) / grid.year_plays as double) as play_share,
        cast(coalesce(level_totals.ms_played, 0) / nullif(grid.year_ms_played, 0) as double) as minute_share,
        cast(grid.year_plays as int) as year_plays,
        cast(grid.year_ms_played / 60000.0 as double) as year_minutes

    from grid
    left join level_totals
        on
            grid.user_id = level_totals.user_id
            and grid.local_year = level_totals.local_year
            and grid.match_level = level_totals.match_level

)

select * from final
