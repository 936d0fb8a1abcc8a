{#- The yearly recap per listener and listener-local year: top 10 tracks, artists, genres and mood
    quadrants, each ranked by plays and by minutes (ties by name), with the year's totals and the
    mood of the year (the quadrant with the most plays) on every row. -#}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

labels as (

    select * from {{ ref('mood_quadrant_labels') }}

),

items as (

    select
        user_id,
        year(local_date) as recap_year,
        'track' as category,
        coalesce(track_id, concat_ws(' - ', artist_name, track_name)) as item_key,
        concat_ws(' - ', artist_name, track_name) as item_name,
        ms_played
    from plays

    union all

    select
        user_id,
        year(local_date) as recap_year,
        'artist' as category,
        lower(artist_name) as item_key,
        artist_name as item_name,
        ms_played
    from plays
    where artist_name is not null

    union all

    select
        user_id,
        year(local_date) as recap_year,
        'genre' as category,
        genre as item_key,
        genre as item_name,
        ms_played
    from plays
    where genre is not null

    union all

    select
        plays.user_id,
        year(plays.local_date) as recap_year,
        'mood_quadrant' as category,
        plays.mood_quadrant as item_key,
        labels.label as item_name,
        plays.ms_played
    from plays
    inner join labels on plays.mood_quadrant = labels.mood_quadrant

),

item_totals as (

    select
        user_id,
        recap_year,
        category,
        item_key,
        max(item_name) as item_name,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes
    from items
    group by user_id, recap_year, category, item_key

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, recap_year, category order by plays desc, minutes desc, item_key asc
        ) as rank_by_plays,
        row_number() over (
            partition by user_id, recap_year, category order by minutes desc, plays desc, item_key asc
        ) as rank_by_minutes
    from item_totals

),

top_items as (

    select
        user_id,
        recap_year,
        category,
        'plays' as ranked_by,
        rank_by_plays as item_rank,
        item_key,
        item_name,
        plays,
        minutes
    from ranked
    where rank_by_plays <= 10

    union all

    select
        user_id,
        recap_year,
        category,
        'minutes' as ranked_by,
        rank_by_minutes as item_rank,
        item_key,
        item_name,
        plays,
        minutes
    from ranked
    where rank_by_minutes <= 10

),

years as (

    select
        user_id,
        year(local_date) as recap_year,
        count(*) as year_plays,
        sum(ms_played) / 60000.0 as year_minutes,
        avg(valence) as year_mean_valence,
        avg(energy) as year_mean_energy
    from plays
    group by user_id, year(local_date)

),

moods_of_the_year as (

    select
        user_id,
        recap_year,
        item_key as mood_of_the_year
    from ranked
    where category = 'mood_quadrant' and rank_by_plays = 1

),

final as (

    select
        top_items.user_id,
        cast(top_items.recap_year as int) as recap_year,
        top_items.category,
        top_items.ranked_by,
        cast(top_items.item_rank as int) as item_rank,
        top_items.item_key,
        top_items.item_name,
        cast(top_items.plays as int) as plays,
        cast(top_items.minutes as double) as minutes,
        cast(years.year_plays as int) as year_plays,
        cast(years.year_minutes as double) as year_minutes,
        years.year_mean_valence,
        years.year_mean_energy,
        moods_of_the_year.mood_of_the_year

    from top_items
    inner join years
        on
            top_items.user_id = years.user_id
            and top_items.recap_year = years.recap_year
    left join moods_of_the_year
        on
            top_items.user_id = moods_of_the_year.user_id
            and top_items.recap_year = moods_of_the_year.recap_year

)

select * from final
