{#- You vs the world, by genre: each listener's share of plays per catalog genre (and subgenre)
    against the genre's share of the catalog, and how well each genre's average sound fits the
    listener's average sound (fit_score = 1 - Euclidean distance over the unit-interval features,
    scaled to [0, 1]). "Fits you but you never play": never played and in the best-fitting third of
    the genres at that level. -#}

{%- set features = unit_features() %}

with

plays as (

    select * from {{ ref('fct_plays') }}

),

tracks as (

    select * from {{ ref('dim_tracks') }}

),

catalog_genres as (

    select
        'genre' as genre_level,
        primary_genre as genre,
        {%- for feature in features %}
        {{ feature }},
        {%- endfor %}
        track_id
    from tracks
    where primary_genre is not null

    union all

    select
        'subgenre' as genre_level,
        primary_subgenre as genre,
        {%- for feature in features %}
        {{ feature }},
        {%- endfor %}
        track_id
    from tracks
    where primary_subgenre is not null

),

catalog_profile as (

    select
        genre_level,
        genre,
        count(*) as catalog_tracks,
        avg(valence) as catalog_valence,
        avg(energy) as catalog_energy,
        avg(danceability) as catalog_danceability,
        avg(acousticness) as catalog_acousticness,
        avg(instrumentalness) as catalog_instrumentalness,
        avg(speechiness) as catalog_speechiness,
        avg(liveness) as catalog_liveness
    from catalog_genres
    group by genre_level, genre

),

catalog_share as (

    select
        *,
        catalog_tracks / sum(catalog_tracks) over (partition by genre_level) as catalog_share
    from catalog_profile

),

played_genres as (

    select
        user_id,
        'genre' as genre_level,
        genre,
        ms_played
    from plays
    where genre is not null

    union all

    select
        user_id,
        'subgenre' as genre_level,
        subgenre as genre,
        ms_played
    from plays
    where subgenre is not null

),

user_genre_plays as (

    select
        user_id,
        genre_level,
        genre,
        count(*) as user_plays,
        sum(ms_played) / 60000.0 as user_minutes
    from played_genres
    group by user_id, genre_level, genre

),

user_level_totals as (

    select
        user_id,
        genre_level,
        sum(user_plays) as level_plays
    from user_genre_plays
    group by user_id, genre_level

),

user_taste as (

    select
        user_id,
        avg(valence) as taste_valence,
        avg(energy) as taste_energy,
        avg(danceability) as taste_danceability,
        avg(acousticness) as taste_acousticness,
        avg(instrumentalness) as taste_instrumentalness,
        avg(speechiness) as taste_speechiness,
        avg(liveness) as taste_liveness
    from plays
    where valence is not null
    group by user_id

),

grid as (

    select
        user_taste.*,
        catalog_share.*
    from user_taste
    cross join catalog_share

),

scored as (

    select
        grid.user_id,
        grid.genre_level,
        grid.genre,
        grid.catalog_tracks,
        grid.catalog_share,
        coalesce(user_genre_plays.user_plays, 0) as user_plays,
        coalesce(user_genre_plays.user_minutes, 0) as user_minutes,
        coalesce(user_genre_plays.user_plays, 0) / user_level_totals.level_plays as user_share,
        1 - sqrt(
            {%- for feature in features %}
            pow(grid.catalog_{{ feature }} - grid.taste_{{ feature }}, 2){{ ' +' if not loop.last }}
            {%- endfor %}
        ) / sqrt({{ features | length }}) as fit_score
    from grid
    inner join user_level_totals
        on
            grid.user_id = user_level_totals.user_id
            and grid.genre_level = user_level_totals.genre_level
    left join user_genre_plays
        on
            grid.user_id = user_genre_plays.user_id
            and grid.genre_level = user_genre_plays.genre_level
            and grid.genre = user_genre_plays.genre

),

ranked as (

    select
        *,
        row_number() over (
            partition by user_id, genre_level order by fit_score desc, genre asc
        ) as fit_rank,
        count(*) over (partition by user_id, genre_level) as level_genres
    from scored

),

final as (

    select
        user_id,
        genre_level,
        genre,
        cast(user_plays as int) as user_plays,
        cast(user_minutes as double) as user_minutes,
        cast(user_share as double) as user_share,
        cast(catalog_tracks as int) as catalog_tracks,
        cast(catalog_share as double) as catalog_share,
        cast(user_share - catalog_share as double) as share_gap,
        cast(user_share / catalog_share as double) as share_lift,
        cast(fit_score as double) as fit_score,
        cast(fit_rank as int) as fit_rank,
        user_plays = 0 as is_never_played,
        user_plays = 0 and fit_rank <= ceil(level_genres / 3.0) as is_fit_but_unplayed,
        user_share < catalog_share / 2 and fit_rank <= ceil(level_genres / 3.0) as is_fit_but_underplayed

    from ranked

)

select * from final
