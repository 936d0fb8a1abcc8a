{#- What the catalog is missing, per listener: the top 20 artists and the top 20 tracks by minutes among
    the plays WITHOUT a track-level match (match_level artist or unknown). kind 'artist' ranks artists
    by the minutes of those plays (ties: plays, name); kind 'track' ranks artist + title. Names are
    grouped case-insensitively and shown as played (the most frequent spelling). match_level tells
    whether an artist estimate covers them ('artist') or nothing does ('unknown'). -#}

with

plays as (

    select * from {{ ref('fct_plays') }}
    where match_level in ('artist', 'unknown')

),

artists as (

    select
        user_id,
        'artist' as kind,
        lower(trim(artist_name)) as item_key,
        mode(artist_name) as artist_name,
        cast(null as string) as track_name,
        max(match_level) as match_level,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes
    from plays
    where artist_name is not null
    group by user_id, lower(trim(artist_name))

),

tracks as (

    select
        user_id,
        'track' as kind,
        concat_ws(' - ', lower(trim(artist_name)), lower(trim(track_name))) as item_key,
        mode(artist_name) as artist_name,
        mode(track_name) as track_name,
        max(match_level) as match_level,
        count(*) as plays,
        sum(ms_played) / 60000.0 as minutes
    from plays
    where track_name is not null
    group by user_id, lower(trim(artist_name)), lower(trim(track_name))

),

items as (

    select * from artists
    union all
    select * from tracks

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, kind order by minutes desc, plays desc, item_key asc
        ) as item_rank
    from items

),

final as (

    select
        user_id,
        kind,
        cast(item_rank as int) as rank,
        artist_name,
        track_name,
        match_level,
        cast(plays as int) as plays,
        cast(minutes as double) as minutes

    from ranked
    where item_rank <= 20

)

select * from final
