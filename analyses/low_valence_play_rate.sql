-- Seed question: are low-valence tracks (valence < 0.3) played through, or skipped more than the
-- rest? Play rate = share of plays not skipped; also mean completion.

with

plays as (

    select * from {{ ref('fct_plays') }}

),

labelled as (

    select
        user_id,
        is_skipped,
        completion_ratio,
        case when valence < 0.3 then 'valence < 0.3' else 'valence >= 0.3' end as valence_group
    from plays
    where valence is not null

),

final as (

    select
        user_id,
        valence_group,
        count(*) as plays,
        round(avg(case when is_skipped then 0.0 else 1.0 end), 3) as play_rate,
        round(avg(completion_ratio), 3) as mean_completion
    from labelled
    group by user_id, valence_group

)

select * from final
