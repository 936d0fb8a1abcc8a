-- Seed question: which catalog genres fit a listener's sound best but are never played?

with

gaps as (

    select * from {{ ref('mart_genre_gap') }}

),

final as (

    select
        user_id,
        genre_level,
        genre,
        round(fit_score, 3) as fit_score,
        fit_rank,
        round(catalog_share, 3) as catalog_share
    from gaps
    where is_fit_but_unplayed or is_fit_but_underplayed

)

select * from final
