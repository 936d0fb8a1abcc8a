-- Seed question: is weekend listening brighter or more energetic than weekday listening?

with

plays as (

    select * from {{ ref('fct_plays') }}

),

final as (

    select
        user_id,
        is_weekend,
        count(*) as plays,
        round(avg(valence), 3) as mean_valence,
        round(avg(energy), 3) as mean_energy
    from plays
    group by user_id, is_weekend

)

select * from final
